"""What a decision can know before the request comes is worked out once: a name's routes for each
version of the model lists, the usual ``auto`` request's choice at each level, and each route's
candidate on each key; a changed list or key is seen at once."""

from __future__ import annotations

import pytest
from fakes.clock import FakeClock

from gateway.config.settings import HealthPolicy
from gateway.core.models import ModelEntry, Target
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import Credential, KeyPool
from gateway.routing.router import AUTO, Router
from gateway.routing.rules import Rule
from gateway.routing.traits import Traits

MODELS = {"openai": ["gpt-5", "gpt-5-mini", "gpt-4o-mini"], "ollama": ["qwen2.5:7b"]}
RULES = (("claude-*", ("openai/gpt-5",)), ("default", ("openai/gpt-5-mini",)))
HARD = Traits(
    "Design a distributed rate limiter; compare the trade-offs and plan the migration", 600, 1, False, False, 700
)


def make() -> tuple[Router, ModelIndex, dict[str, KeyPool]]:
    clock = FakeClock()
    index = ModelIndex(list(MODELS))
    for provider, names in MODELS.items():
        index.set_models(provider, [ModelEntry(provider, n) for n in names])
    pools = {p: KeyPool(p, ("k1", "k2")) for p in MODELS}
    health = Health(clock, HealthPolicy())
    router = Router(index, pools, health, Capabilities(index, {}, ["ollama"]), Affinity(clock, 600), RULES)
    return router, index, pools


def test_a_names_routes_are_worked_out_once_for_each_version_of_the_model_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router, index, _ = make()
    first = router.targets("claude-opus-4-8")

    def asked(name: str) -> Rule | None:
        raise AssertionError(f"the rules were asked again for {name}")

    monkeypatch.setattr(router.rules, "match", asked)
    assert router.targets("claude-opus-4-8") is first
    monkeypatch.undo()
    assert router.targets("qwen2.5:7b") == (Target("ollama", "qwen2.5:7b"),)
    index.set_models("ollama", [ModelEntry("ollama", "llama3.2:3b")])  # qwen is gone: the default serves the name
    assert router.targets("qwen2.5:7b") == (Target("openai", "gpt-5-mini"),)


def test_the_usual_auto_requests_choice_and_its_rejections_are_made_once() -> None:
    router, _, _ = make()
    one = router.plan(AUTO, router.targets(AUTO), lambda: HARD)
    two = router.plan(AUTO, router.targets(AUTO), lambda: HARD)
    assert one.rejected and [r.route for r in one.rejected] == [r.route for r in two.rejected]
    assert all(a is b for a, b in zip(one.rejected, two.rejected, strict=True))


def test_a_routes_candidate_on_a_key_is_remembered_until_the_key_changes() -> None:
    router, _, pools = make()
    first = router.plan("openai/gpt-5", router.targets("openai/gpt-5")).candidates
    again = router.plan("openai/gpt-5", router.targets("openai/gpt-5")).candidates
    assert {id(c) for c in first} == {id(c) for c in again}
    pools["openai"].credentials = (Credential("openai", "openai#1", "a new secret"),)  # the same label, a new key
    (changed,) = router.plan("openai/gpt-5", router.targets("openai/gpt-5")).candidates
    assert changed.cred.secret == "a new secret"
