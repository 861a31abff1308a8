"""The failover loop with scripted attempts: what moves on, what stops, what the caller learns."""

from __future__ import annotations

import contextlib
import gc
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from fakes.clock import FakeClock

from gateway.config.settings import HealthPolicy
from gateway.core.models import ModelEntry, Target
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    NoRouteAvailable,
    UpstreamStatus,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.failover import Routed, first_success
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import KeyPool
from gateway.routing.router import Candidate, Router


def router(clock: FakeClock, aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> Router:
    index = ModelIndex(["groq", "openai", "ollama"])
    index.set_models("groq", [ModelEntry("groq", "llama")])
    index.set_models("openai", [ModelEntry("openai", "gpt")])
    index.set_models("ollama", [ModelEntry("ollama", "llama")])
    pools = {
        "groq": KeyPool("groq", ("g1", "g2", "g3"), "sequential"),
        "openai": KeyPool("openai", ("o1",)),
        "ollama": KeyPool("ollama", ()),
    }
    return Router(
        index,
        pools,
        Health(clock, HealthPolicy(breaker_failures=1)),
        Capabilities(index, {}, ["ollama"]),
        Affinity(clock, 3600),
        aliases,
    )


def limited(wait: float | None = None) -> UpstreamStatus:
    return UpstreamStatus(
        "slow down", provider="p", status=429, error_type="rate_limit_error", code=None, resets_in=wait
    )


async def run(
    r: Router, clock: FakeClock, name: str, faults: dict[str, GatewayError | None], deadline: float = 100
) -> tuple[Routed[str], list[str]]:
    tried: list[str] = []

    async def attempt(c: Candidate, left: float) -> str:
        tried.append(c.route)
        fault = faults.get(c.route)
        if fault is not None:
            raise fault
        return f"answer from {c.route}"

    plan = r.plan(name, r.targets(name))
    routed = await first_success(plan, attempt, r.health, clock, clock.monotonic() + deadline, "req")
    return routed, tried


async def test_rate_limits_move_to_the_next_key_then_the_next_provider() -> None:
    clock = FakeClock()
    r = router(clock, (("fast", ("groq/llama", "openai/gpt")),))
    faults: dict[str, GatewayError | None] = {
        "groq/llama; key=groq#1": limited(20),
        "groq/llama; key=groq#2": limited(),
        "groq/llama; key=groq#3": limited(),
    }
    routed, tried = await run(r, clock, "fast", faults)
    assert routed.value == "answer from openai/gpt; key=openai"
    assert routed.attempts == 4 and len(tried) == 4  # each route once, never twice
    # The next request skips the cooling keys without asking them.
    routed, tried = await run(r, clock, "fast", {})
    assert tried == ["openai/gpt; key=openai"]
    clock._mono += 10  # the default cooldown of keys 2 and 3 is over; key 1 still has 10 s
    routed, tried = await run(r, clock, "fast", {})
    assert tried == ["groq/llama; key=groq#2"]


async def test_a_bare_name_falls_back_to_every_provider_listing_it() -> None:
    clock = FakeClock()
    r = router(clock)
    faults: dict[str, GatewayError | None] = {
        f"groq/llama; key=groq#{n}": UpstreamUnreachable("down", provider="groq") for n in (1, 2, 3)
    }
    routed, _ = await run(r, clock, "llama", faults)
    assert routed.candidate is not None and routed.candidate.route == "ollama/llama; key=ollama"


async def test_fatal_errors_are_answered_at_once_with_the_route_named() -> None:
    clock = FakeClock()
    r = router(clock)
    bad = UpstreamStatus("context too long", provider="groq", status=400, error_type="invalid_request_error", code=None)
    with pytest.raises(UpstreamStatus) as caught:
        await run(r, clock, "llama", {"groq/llama; key=groq#1": bad})
    assert caught.value.attempts == 1 and caught.value.route == "groq/llama; key=groq#1"


async def test_when_every_key_is_limited_the_caller_gets_429_with_the_shortest_wait() -> None:
    clock = FakeClock()
    r = router(clock, (("g", ("groq/llama",)),))
    faults: dict[str, GatewayError | None] = {
        "groq/llama; key=groq#1": limited(40),
        "groq/llama; key=groq#2": limited(7),
        "groq/llama; key=groq#3": limited(90),
    }
    with pytest.raises(UpstreamStatus) as caught:
        await run(r, clock, "g", faults)
    assert caught.value.status == 429 and caught.value.retry_after == 7 and caught.value.attempts == 3
    # Asked again at once: nothing is sent, and the answer is the same kind of 429.
    with pytest.raises(NoRouteAvailable) as resting:
        await run(r, clock, "g", {})
    assert resting.value.status == 429 and resting.value.retry_after == 7 and resting.value.attempts == 0


async def test_open_breakers_everywhere_get_one_probe_before_a_refusal() -> None:
    clock = FakeClock()
    r = router(clock, (("o", ("openai/gpt",)),))
    slow: dict[str, GatewayError | None] = {"openai/gpt; key=openai": UpstreamTimeout("slow", provider="openai")}
    with pytest.raises(UpstreamTimeout):
        await run(r, clock, "o", slow)
    with pytest.raises(UpstreamTimeout) as probed:  # its breaker is open: it is probed, and fails again
        await run(r, clock, "o", slow)
    assert probed.value.attempts == 1 and probed.value.route == "openai/gpt; key=openai"
    cred = r._pools["openai"].credentials[0]
    assert r.health.begin(cred, probe=True)  # a probe is out: another request meanwhile is refused
    with pytest.raises(NoRouteAvailable) as caught:
        await run(r, clock, "o", {})
    assert caught.value.status == 503 and caught.value.retry_after == 60  # the cool-off doubled
    r.health.abandoned(cred)
    routed, _ = await run(r, clock, "o", {})  # back: the next probe is served
    assert routed.attempts == 1


async def test_a_request_the_route_cannot_take_moves_on_without_blaming_the_route() -> None:
    clock = FakeClock()
    r = router(clock, (("mix", ("openai/gpt", "ollama/llama")),))
    routed, _ = await run(r, clock, "mix", {"openai/gpt; key=openai": InvalidRequest("cannot translate")})
    assert routed.candidate is not None and routed.candidate.target == Target("ollama", "llama")
    assert r.health.snapshot(r._pools["openai"].credentials[0])["attempts"] == 0


async def test_the_deadline_bounds_the_whole_request() -> None:
    clock = FakeClock()
    r = router(clock)

    async def slow(c: Candidate, left: float) -> str:
        clock._mono += 60
        raise limited()

    plan = r.plan("llama", r.targets("llama"))
    with pytest.raises(UpstreamTimeout, match="deadline") as caught:
        await first_success(plan, slow, r.health, clock, clock.monotonic() + 100, "req")
    assert caught.value.attempts == 2  # 0 s and 60 s were within it; at 120 s nothing more starts


async def test_cancellation_releases_a_half_open_probe() -> None:
    clock = FakeClock()
    r = router(clock, (("o", ("openai/gpt",)),))
    with pytest.raises(UpstreamTimeout):
        await run(r, clock, "o", {"openai/gpt; key=openai": UpstreamTimeout("slow", provider="openai")})
    clock._mono += 30

    async def cancelled(c: Candidate, left: float) -> str:
        raise KeyboardInterrupt  # stands for the client leaving mid-attempt

    plan = r.plan("o", r.targets("o"))
    with pytest.raises(KeyboardInterrupt):
        await first_success(plan, cancelled, r.health, clock, clock.monotonic() + 100, "req")
    routed, _ = await run(r, clock, "o", {})  # the probe slot was given back
    assert routed.attempts == 1


class Body:
    """Stands for a request body or an upstream's answer: the test sees when it is freed."""


def to_the_end(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine that never waits (the attempts fail at once), without an event loop."""
    with contextlib.suppress(StopIteration):
        coroutine.send(None)
    raise AssertionError("the coroutine waited")


@pytest.mark.parametrize(
    "fault",
    [
        lambda: limited(20),  # then the route rests: the second request is answered without one
        lambda: UpstreamStatus("boom", provider="openai", status=500, error_type="server_error", code=None),
        lambda: UpstreamStatus(
            "too long", provider="openai", status=400, error_type="invalid_request_error", code=None
        ),
        lambda: InvalidRequest("cannot translate"),
    ],
    ids=["429", "500", "fatal 400", "refused"],
)
def test_a_failed_request_frees_its_body_at_once_without_a_collection(fault: Callable[[], GatewayError]) -> None:
    """SECURITY.md B40, B41 (issue 20, item 1): the failover loop kept the error it raised in a
    local of a frame the error's traceback holds, so each failed request's frames (the body in
    the caller's, the answer in the attempt's) waited for the rare full collection."""
    clock = FakeClock()
    r = router(clock, (("o", ("openai/gpt",)),))
    kept: list[weakref.ref[Body]] = []

    async def attempt(c: Candidate, left: float) -> str:
        answer = Body()
        kept.append(weakref.ref(answer))
        raise fault()

    async def request() -> None:
        body = Body()
        kept.append(weakref.ref(body))
        plan = r.plan("o", r.targets("o"))
        await first_success(plan, attempt, r.health, clock, clock.monotonic() + 100, "req")

    gc.collect()
    gc.disable()  # what is freed here is freed by reference counting
    try:
        for _ in range(2):
            with pytest.raises(GatewayError):
                to_the_end(request())
        assert len(kept) >= 3 and [ref() for ref in kept] == [None] * len(kept)
    finally:
        gc.enable()
