"""auto:fast, auto:local and the prefer header: latency measured per route orders the routes that can
take a request, local servers come first when asked, and latency breaks auto's ties."""

from __future__ import annotations

from test_router import make, traits

from gateway.core.models import Target
from gateway.routing.pool import Credential
from gateway.routing.preference import Prefer
from gateway.routing.receipt import receipt
from gateway.routing.router import AUTO, Plan, Router

HARD = (
    "Design the architecture of a distributed scheduler; compare strategies, evaluate security, "
    "plan the migration and prove the invariants step by step.\n```python\ndef f(): pass\n```"
)


def served(router: Router, route: str, seconds: float) -> None:
    """The route answered in ``seconds`` (as failover tells the health)."""
    provider, model = route.split("/", 1)
    cred = router._pools[provider].order()[0]
    assert isinstance(cred, Credential)
    router.health.succeeded(cred, seconds, model)


def plan(router: Router, name: str, text: str = "hi", prefer: Prefer | None = None) -> Plan:
    return router.plan(name, router.targets(name), lambda: traits(text), None, prefer)


def routes(p: Plan) -> list[str]:
    return [c.route.split(";")[0] for c in p.candidates]


def local(router: Router) -> Router:
    router.health.local = frozenset({"ollama"})
    return router


def test_the_health_measures_each_route_not_only_each_key() -> None:
    router = make()
    served(router, "openai/gpt-5", 2.0)
    served(router, "openai/gpt-4o-mini", 0.5)
    assert router.health.latency_ms("openai/gpt-5") == 2000.0
    assert router.health.latency_ms("openai/gpt-4o-mini") == 500.0
    assert router.health.latency_ms("openai/o3") is None


def test_auto_fast_puts_the_fastest_measured_route_first_and_the_receipt_shows_the_latencies() -> None:
    router = make()
    served(router, "openai/gpt-5", 3.0)
    served(router, "openai/o3", 1.0)
    served(router, "anthropic/claude-sonnet-4-5", 2.0)
    fast = plan(router, "auto:fast", HARD)
    assert routes(fast)[:3] == ["openai/o3", "openai/o3", "anthropic/claude-sonnet-4-5"]  # o3's two keys first
    assert plan(router, AUTO, HARD).candidates[0].route.startswith("openai/gpt-5")  # plain auto: cheapest
    told = receipt(fast, "auto:fast", router.rule("auto:fast"))
    assert told["rule"] == "auto:fast" and told["prefer"] == "fast"
    assert told["latency_ms"] == {"openai/o3": 1000.0, "anthropic/claude-sonnet-4-5": 2000.0, "openai/gpt-5": 3000.0}


def test_auto_fast_only_among_routes_that_can_take_the_request() -> None:
    router = make()
    served(router, "ollama/llama3.2:3b", 0.01)  # fastest, but rated under a hard prompt
    served(router, "openai/gpt-5", 3.0)
    assert routes(plan(router, "auto:fast", HARD))[0] == "openai/gpt-5"


def test_the_prefer_header_orders_a_chain_too() -> None:
    router = local(make())
    served(router, "ollama/qwen2.5:7b", 0.2)
    served(router, "openai/gpt-5", 1.0)
    assert routes(plan(router, "coding"))[0] == "anthropic/claude-sonnet-4-5"
    assert routes(plan(router, "coding", prefer="fast"))[0] == "ollama/qwen2.5:7b"
    assert routes(plan(router, "coding", prefer="local"))[0] == "ollama/qwen2.5:7b"
    assert routes(plan(router, AUTO, HARD, prefer="local"))[0].startswith("ollama/")


def test_auto_local_serves_a_hard_prompt_locally_and_falls_back_to_the_cloud() -> None:
    router = local(make())
    chosen = routes(plan(router, "auto:local", HARD))
    assert set(chosen[:2]) == {"ollama/qwen2.5:7b", "ollama/llama3.2:3b"}  # rated under it, but local
    assert chosen[2].startswith("openai/")  # then the cloud, should both fail
    assert routes(plan(router, AUTO, HARD))[0].startswith("openai/")  # plain auto: rated high enough
    images = router.plan("auto:local", router.targets("auto:local"), lambda: traits("look", images=True))
    assert routes(images) and not any(r.startswith("ollama/") for r in routes(images))  # none can see: cloud


def test_measured_latency_breaks_ties_in_plain_auto() -> None:
    router = make()
    served(router, "ollama/llama3.2:3b", 0.9)
    served(router, "ollama/qwen2.5:7b", 0.3)
    firsts = {routes(plan(router, AUTO))[0] for _ in range(4)}
    assert firsts == {"ollama/qwen2.5:7b"}  # no longer taking turns: the faster of two free ones
    assert receipt(plan(router, AUTO), AUTO, AUTO)["latency_ms"] == {
        "ollama/qwen2.5:7b": 300.0,
        "ollama/llama3.2:3b": 900.0,
    }


def test_auto_modes_are_names_of_their_own() -> None:
    router = make()
    assert router.targets("auto:fast") == router.targets(AUTO) == router.targets("auto:local")
    assert router.rule("auto:local") == "auto:local"
    assert Target("openai", "gpt-5") in router.targets("auto:fast")
