"""Choosing candidates: auto-routing by difficulty and price, the capability filter, affinity,
and the receipt that explains it all."""

from __future__ import annotations

from fakes.clock import FakeClock

from gateway.config.settings import HealthPolicy, ModelOverride
from gateway.core.models import ModelEntry, Target
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.difficulty import rate
from gateway.routing.failure import Verdict
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import KeyPool
from gateway.routing.receipt import receipt
from gateway.routing.router import AUTO, Router
from gateway.routing.traits import Traits

MODELS = {
    "ollama": ["llama3.2:3b", "qwen2.5:7b", "nomic-embed-text"],
    "openai": ["gpt-4o-mini", "gpt-4.1-nano", "gpt-5", "o3"],
    "anthropic": ["claude-sonnet-4-5"],
    "groq": ["llama-3.3-70b-versatile"],
}


def make(
    clock: FakeClock | None = None,
    overrides: dict[str, ModelOverride] | None = None,
    limits: dict[str, int] | None = None,
) -> Router:
    clock = clock or FakeClock()
    index = ModelIndex(list(MODELS))
    for provider, names in MODELS.items():
        index.set_models(provider, [ModelEntry(provider, n) for n in names])
    pools = {p: KeyPool(p, () if p == "ollama" else (f"{p}-k1", f"{p}-k2"), "sequential") for p in MODELS}
    return Router(
        index,
        pools,
        Health(clock, HealthPolicy()),
        Capabilities(index, overrides or {}, ["ollama"]),
        Affinity(clock, 600),
        [("coding", ("anthropic/claude-sonnet-4-5", "openai/gpt-5", "ollama/qwen2.5:7b"))],
        limits,
    )


def traits(
    text: str, *, tools: bool = False, images: bool = False, chars: int | None = None, size: int = 100
) -> Traits:
    return Traits(
        text=text, chars=len(text) if chars is None else chars, messages=1, tools=tools, images=images, size=size
    )


def auto(router: Router, t: Traits) -> list[str]:
    plan = router.plan(AUTO, router.targets(AUTO), lambda: t)
    return [c.route for c in plan.candidates]


def test_auto_lists_only_rated_chat_models_cheapest_first() -> None:
    routed = [f"{t.provider}/{t.upstream_model}" for t in make().targets(AUTO)]
    assert routed[:2] == ["ollama/llama3.2:3b", "ollama/qwen2.5:7b"]  # local: free
    assert "ollama/nomic-embed-text" not in routed
    assert routed.index("openai/gpt-4.1-nano") < routed.index("openai/gpt-4o-mini") < routed.index("openai/gpt-5")
    assert routed[-1] == "groq/llama-3.3-70b-versatile"  # no price known: last


def test_an_easy_prompt_goes_to_the_cheapest_model_and_a_hard_one_to_an_able_one() -> None:
    router = make()
    assert auto(router, traits("hi"))[0].startswith("ollama/")
    hard = traits(
        "Design the architecture of a distributed scheduler; compare strategies, evaluate security, "
        "plan the migration and prove the invariants step by step.\n```python\ndef f(): pass\n```"
    )
    assert rate(hard).level == 5
    chosen = auto(router, hard)
    assert chosen[0] == "openai/gpt-5; key=openai#1"  # the cheapest rated 5
    assert {c.split(";")[0] for c in chosen} == {"openai/gpt-5", "openai/o3", "anthropic/claude-sonnet-4-5"}


def test_ties_between_equally_cheap_models_rotate() -> None:
    router = make()
    firsts = {auto(router, traits("hello"))[0] for _ in range(4)}
    assert firsts == {"ollama/llama3.2:3b; key=ollama", "ollama/qwen2.5:7b; key=ollama"}


def test_the_capability_filter_for_tools_images_context_and_body_size() -> None:
    router = make(overrides={"ollama/qwen2.5:7b": ModelOverride(capabilities=("completion",))}, limits={"ollama": 1000})
    no_tools = auto(router, traits("hello", tools=True))
    assert not any(r.startswith("ollama/qwen2.5:7b") for r in no_tools) and no_tools[0].startswith("ollama/llama3.2:3b")
    images = auto(router, traits("hello", images=True))
    assert images and not any(r.startswith(("ollama/", "groq/")) for r in images)
    long = auto(router, traits("hello", chars=4 * 300_000))
    assert long and all(r.startswith(("openai/gpt-4.1-nano", "openai/gpt-5")) for r in long)
    plan = router.plan(AUTO, router.targets(AUTO), lambda: traits("hello", size=5000))
    assert all(not c.route.startswith("ollama/") for c in plan.candidates)
    assert any("body of 5000 bytes > provider limit of 1000" in r.reason for r in plan.rejected)


def test_the_filter_never_empties_a_choice_the_client_made() -> None:
    router = make()
    targets = (Target("ollama", "llama3.2:3b"), Target("ollama", "qwen2.5:7b"))
    plan = router.plan("x", targets, lambda: traits("hello", images=True))  # neither sees images
    assert len(plan.candidates) == 2 and plan.rejected == ()


def test_an_alias_skips_routes_whose_model_cannot_take_the_request() -> None:
    router = make(overrides={"anthropic/claude-sonnet-4-5": ModelOverride(context=100)})
    plan = router.plan("coding", router.targets("coding"), lambda: traits("x" * 1000))
    assert [c.route for c in plan.candidates][:1] == ["openai/gpt-5; key=openai#1"]
    assert plan.rejected[0].reason == "prompt of ~254 tokens > context of 100"


def test_nothing_rated_high_enough_still_gets_the_best_there_is() -> None:
    index_only_small = make()
    index_only_small.capabilities._overrides = {
        f"{p}/{m}": ModelOverride(rating=1) for p, ms in MODELS.items() for m in ms
    }
    chosen = auto(
        index_only_small, traits("prove it step by step; analyze the algorithm's complexity and design trade-offs")
    )
    assert chosen  # served by the best available rather than refused


def test_a_conversation_keeps_its_key_while_it_is_healthy() -> None:
    clock = FakeClock()
    router = make(clock)
    targets = router.targets("openai/gpt-4o-mini")
    pool = router._pools["openai"]
    pool.rotation = "round-robin"
    plan = router.plan("openai/gpt-4o-mini", targets, None, lambda: "conversation-1")
    router.served(plan, plan.candidates[1])  # key 2 served it (key 1 failed, say)
    for _ in range(3):
        again = router.plan("openai/gpt-4o-mini", targets, None, lambda: "conversation-1")
        assert again.candidates[0].cred.label == "openai#2"
    router.health.failed(plan.candidates[1].cred, "gpt-4o-mini", Verdict("cool", "rate_limited", wait=30))
    moved = router.plan("openai/gpt-4o-mini", targets, None, lambda: "conversation-1")
    assert moved.candidates[0].cred.label == "openai#1"  # not while it rests
    clock._mono += 700  # the record expired
    assert router.affinity.label("conversation-1") is None


def test_affinity_records_expire_and_stay_bounded() -> None:
    clock = FakeClock()
    affinity = Affinity(clock, ttl=60, capacity=3)
    for n in range(5):
        affinity.remember(f"c{n}", "k")
    assert len(affinity) == 3 and affinity.label("c0") is None and affinity.label("c4") == "k"
    clock._mono += 61
    affinity.remember("new", "k")
    assert len(affinity) == 1


def test_the_receipt_tells_scores_choice_alternatives_and_rejections() -> None:
    clock = FakeClock()
    router = make(clock)
    cred = router._pools["ollama"].credentials[0]
    router.health.failed(cred, "llama3.2:3b", Verdict("cool", "rate_limited", wait=20))
    t = traits("Write a python function to parse this:\n```\nx = 1\n```")
    plan = router.plan(AUTO, router.targets(AUTO), lambda: t)
    doc = receipt(plan, AUTO, router.rule(AUTO))
    assert doc["difficulty"] == {"level": 2, "scores": {"code": 1.0}}
    assert doc["chosen"] == "ollama/qwen2.5:7b; key=ollama"
    assert doc["alternatives"][0].startswith("openai/gpt-4.1-nano")
    assert {"route": "ollama/llama3.2:3b; key=ollama", "reason": "rate_limited", "seconds_left": 20} in doc["rejected"]
