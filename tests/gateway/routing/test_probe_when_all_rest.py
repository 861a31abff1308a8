"""Fail soft (issue 23, point 2): when every route rests, the breaker whose rest ends first gets
one probe instead of a refusal, and a local server's breaker rests it seconds, not minutes."""

from __future__ import annotations

from fakes.clock import FakeClock

from gateway.config.settings import HealthPolicy
from gateway.core.models import ModelEntry
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.failure import Verdict
from gateway.routing.health import LOCAL_MAX_COOLOFF, Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import Credential, KeyPool
from gateway.routing.router import Router

DOWN = Verdict("retry", "connect", breaker=True)
POLICY = HealthPolicy(breaker_failures=1, breaker_cooloff=30, breaker_max_cooloff=600)


def make(clock: FakeClock) -> Router:
    index = ModelIndex(["ollama", "groq"])
    index.set_models("ollama", [ModelEntry("ollama", "llama3.2:3b")])
    index.set_models("groq", [ModelEntry("groq", "llama3.2:3b")])
    pools = {"ollama": KeyPool("ollama", (), "sequential"), "groq": KeyPool("groq", ("g1",), "sequential")}
    health = Health(clock, POLICY)
    health.local = frozenset({"ollama"})
    return Router(index, pools, health, Capabilities(index, {}, ["ollama"]), Affinity(clock, 600))


def test_when_every_route_rests_the_soonest_breaker_is_probed() -> None:
    clock = FakeClock()
    router = make(clock)
    targets = router.targets("llama3.2:3b")
    first = router.plan("llama3.2:3b", targets)
    assert not first.probe and len(first.candidates) == 2
    router.health.failed(first.candidates[1].cred, "llama3.2:3b", DOWN)  # groq: rests 30 s
    router.health.failed(first.candidates[0].cred, "llama3.2:3b", DOWN)  # ollama: rests 2 s
    resting = router.plan("llama3.2:3b", targets)
    assert resting.probe and [c.target.provider for c in resting.candidates] == ["ollama"]
    assert {r.reason for r in resting.rejected} == {"breaker_open"}
    cred = resting.candidates[0].cred
    assert router.health.begin(cred, resting.probe)  # the one probe, though the breaker is open
    assert not router.health.begin(cred, resting.probe)  # and only one
    router.health.succeeded(cred, 0.1)
    assert not router.plan("llama3.2:3b", targets).probe  # it came back: served as before


def test_a_local_servers_breaker_rests_it_seconds_not_minutes() -> None:
    clock = FakeClock()
    health = Health(clock, POLICY)
    health.local = frozenset({"ollama"})
    local, cloud = Credential("ollama", "ollama", ""), Credential("groq", "g", "k")
    for _ in range(8):  # open, then every probe fails
        for cred in (local, cloud):
            health.begin(cred, probe=True)
            health.failed(cred, "m", DOWN)
    assert health.breaker("ollama").cooloff == LOCAL_MAX_COOLOFF
    assert health.breaker("groq").cooloff == 600
    blocked = health.blocked(local, "m")
    assert blocked is not None and blocked[1] <= LOCAL_MAX_COOLOFF


def test_forgiving_a_provider_clears_its_breaker() -> None:  # what a Rescan or Test that answers does
    clock = FakeClock()
    health = Health(clock, POLICY)
    local = Credential("ollama", "ollama", "")
    health.failed(local, "m", DOWN)
    assert health.blocked(local, "m") is not None
    health.forgive("ollama", ("ollama",))
    assert health.blocked(local, "m") is None
