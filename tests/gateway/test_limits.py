"""Limits: the tiers' defaults, sliding windows that free capacity as they slide, reservations
settled with real usage, and the wait a refused caller is told."""

from __future__ import annotations

import pytest
from fakes.clock import FakeClock

from gateway.auth.callers import LOCAL, TIERS, Caller, Quota, quota_for
from gateway.core.sliding_window import Window
from gateway.errors import LimitExceeded
from gateway.pipeline.limits import Limits


def test_the_tiers_defaults() -> None:
    assert TIERS["free"] == Quota(20, 2_000, 40_000, 500_000)
    assert TIERS["standard"] == Quota(60, 10_000, 200_000, 5_000_000)
    assert TIERS["admin"] == Quota(200, 100_000, 1_000_000, 50_000_000)
    assert quota_for("custom", {"requests_per_minute": 5}).requests_per_minute == 5


def test_a_window_slides() -> None:
    window = Window(60, 60)
    for second in range(0, 30):
        window.add(float(second), 1)
    assert window.total(29.5) == 30
    assert window.total(60.5) == 29  # second 0 has left the window
    assert window.wait(29.5, 1, 30) == pytest.approx(30.5)  # until second 0 leaves
    assert window.wait(29.5, 1, 31) == 0


async def test_over_the_requests_per_minute_is_429_with_the_wait() -> None:
    clock = FakeClock()
    limits = Limits(clock)
    caller = Caller("k1", "free", TIERS["free"])
    for _ in range(20):
        limits.admit(caller, 10)
        await clock.advance(1)
    with pytest.raises(LimitExceeded) as refused:
        limits.admit(caller, 10)
    assert refused.value.status == 429 and 1 <= (refused.value.retry_after or 0) <= 41
    assert "20 requests per minute" in refused.value.message
    await clock.advance(refused.value.retry_after or 0)
    assert limits.admit(caller, 10) is not None
    assert limits.denials() == {"k1": 1} and limits.denials() == {}


async def test_reserved_tokens_are_settled_with_the_real_usage() -> None:
    clock = FakeClock()
    limits = Limits(clock)
    caller = Caller("k2", "custom", Quota(tokens_per_minute=1000))
    ticket = limits.admit(caller, 900)
    with pytest.raises(LimitExceeded, match="tokens per minute"):
        limits.admit(caller, 200)  # the reservation counts while the first is in flight
    limits.settle(ticket, 100)
    limits.admit(caller, 800)
    assert limits.usage(caller)["tokens_per_minute"] == {"used": 900, "limit": 1000}


async def test_a_request_larger_than_the_whole_allowance_waits_for_an_empty_window() -> None:
    clock = FakeClock()
    limits = Limits(clock)
    caller = Caller("k3", "custom", Quota(tokens_per_minute=100))
    limits.settle(limits.admit(caller, 5000), 5000)
    with pytest.raises(LimitExceeded):
        limits.admit(caller, 5000)
    await clock.advance(61)
    assert limits.admit(caller, 5000) is not None


def test_the_local_user_is_unlimited() -> None:
    assert Limits(FakeClock()).admit(LOCAL, 10**9) is None
