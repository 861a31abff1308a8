"""Model rules: exact aliases, globs in file order, ``default`` for names nothing serves, and an
enforced model that stands in for whatever is asked; ``decide`` says which rule fired."""

from __future__ import annotations

from fakes.clock import FakeClock

from gateway.config.settings import HealthPolicy
from gateway.core.models import ModelEntry, Target
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import KeyPool
from gateway.routing.receipt import receipt
from gateway.routing.router import AUTO, Router
from gateway.routing.rules import Rules
from gateway.routing.traits import Traits

MODELS = {"openai": ["gpt-5", "gpt-5-mini", "gpt-4o-mini"], "ollama": ["qwen2.5:7b"]}
RULES = (
    ("claude-*", ("openai/gpt-5",)),
    ("*-haiku-*", ("ollama/qwen2.5:7b",)),  # later in the file: "claude-haiku-4-5" takes "claude-*"
    ("claude-sonnet-4-5", ("openai/gpt-4o-mini",)),
    ("default", ("openai/gpt-5-mini", "ollama/qwen2.5:7b")),
)


def make(rules: tuple[tuple[str, tuple[str, ...]], ...] = RULES, enforced: str | None = None) -> Router:
    clock = FakeClock()
    index = ModelIndex(list(MODELS))
    for provider, names in MODELS.items():
        index.set_models(provider, [ModelEntry(provider, n) for n in names])
    pools = {p: KeyPool(p, ("k1",)) for p in MODELS}
    return Router(
        index,
        pools,
        Health(clock, HealthPolicy()),
        Capabilities(index, {}, ["ollama"]),
        Affinity(clock, 600),
        rules,
        enforced=enforced,
    )


def test_an_exact_name_wins_over_a_glob_then_globs_in_file_order() -> None:
    router = make()
    assert router.targets("claude-sonnet-4-5") == (Target("openai", "gpt-4o-mini"),)
    assert router.targets("claude-opus-4-8") == (Target("openai", "gpt-5"),)
    assert router.targets("claude-haiku-4-5") == (Target("openai", "gpt-5"),)
    assert router.targets("mini-haiku-1") == (Target("ollama", "qwen2.5:7b"),)
    assert router.rule("claude-sonnet-4-5") == 'alias "claude-sonnet-4-5"'
    assert router.rule("claude-opus-4-8") == 'glob "claude-*"'
    assert router.rule("mini-haiku-1") == 'glob "*-haiku-*"'


def test_globs_are_case_sensitive_and_match_the_whole_name() -> None:
    router = make()
    assert router.targets("Claude-opus") == router.targets("default")  # no glob: the default serves it
    assert router.rule("Claude-opus") == "default"
    assert router.rules.match("xclaude-opus") is None


def test_default_serves_only_names_nothing_else_serves() -> None:
    router = make()
    assert router.targets("gpt-4o-mini") == (Target("openai", "gpt-4o-mini"),)
    assert router.targets("openai/gpt-5") == (Target("openai", "gpt-5"),)
    assert router.rule("gpt-4o-mini") == "model"
    assert router.targets("no-such-model") == (Target("openai", "gpt-5-mini"), Target("ollama", "qwen2.5:7b"))
    assert router.rule("no-such-model") == "default"
    assert make(RULES[:3]).targets("no-such-model") == ()  # without a default: nothing, as before


def test_an_enforced_name_stands_in_for_whatever_is_asked() -> None:
    router = make(enforced="claude-opus")
    for asked in ("gpt-4o-mini", "openai/gpt-5-mini", "anything"):
        assert router.targets(asked) == (Target("openai", "gpt-5"),)
    plan = router.plan("gpt-4o-mini", router.targets("gpt-4o-mini"))
    doc = receipt(plan, "gpt-4o-mini", router.rule("gpt-4o-mini"))
    assert (doc["requested"], doc["model"], doc["chosen"]) == ("gpt-4o-mini", "claude-opus", "openai/gpt-5; key=openai")
    assert doc["rule"] == 'enforced "claude-opus" (glob "claude-*")'


def test_an_enforced_auto_is_chosen_by_difficulty() -> None:
    router = make(enforced=AUTO)
    hi = Traits(text="hi", chars=2, messages=1, tools=False, images=False, size=50)
    plan = router.plan("gpt-5", router.targets("gpt-5"), lambda: hi)
    assert plan.name == AUTO and plan.difficulty is not None and plan.candidates
    assert router.rule("gpt-5") == 'enforced "auto" (auto)'


def test_a_glob_match_is_remembered_and_the_memory_is_bounded() -> None:
    rules = Rules(RULES)
    assert rules.match("claude-x") is rules.match("claude-x") is rules.globs[0]
    for n in range(5000):
        rules.match(f"model-{n}")
    assert len(rules._matched) <= 4096


def test_a_rules_routes_follow_the_model_lists() -> None:
    router = make((("claude-*", ("openai/gpt-5", "gpt-oss")),))
    assert router.targets("claude-x") == (Target("openai", "gpt-5"),)  # nobody lists gpt-oss yet
    router._index.set_models("ollama", [ModelEntry("ollama", "gpt-oss")])
    assert router.targets("claude-x") == (Target("openai", "gpt-5"), Target("ollama", "gpt-oss"))
