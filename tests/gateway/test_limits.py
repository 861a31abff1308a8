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


async def test_a_spent_day_budget_is_429_saying_the_budget_what_is_used_and_when_it_frees_up() -> None:
    clock = FakeClock()
    limits = Limits(clock)
    caller = Caller("k4", "custom", Quota(dollars_per_day=5.0))
    limits.settle(limits.admit(caller, 10), 10, dollars=3.0)
    await clock.advance(3600)
    limits.settle(limits.admit(caller, 10), 10, dollars=2.02)  # admitted while under: the spend goes past
    with pytest.raises(LimitExceeded) as refused:
        limits.admit(caller, 10)
    wait = refused.value.retry_after or 0
    assert refused.value.status == 429 and 82800 - 600 <= wait <= 82800 + 600  # the first $3 leaves in ~23 h
    assert refused.value.message.startswith("This key's budget of $5.00 per day is spent ($5.02 used).")
    assert "It frees up in 22 h" in refused.value.message or "It frees up in 23 h" in refused.value.message
    assert limits.usage(caller)["dollars_per_day"] == {"used": pytest.approx(5.02), "limit": 5.0}
    assert limits.denials() == {"k4": 1}
    await clock.advance(wait)
    assert limits.admit(caller, 10) is not None  # $2.02 of $5.00: under again


async def test_a_month_budget_is_a_sliding_30_days() -> None:
    clock = FakeClock()
    limits = Limits(clock)
    caller = Caller("k5", "custom", Quota(dollars_per_month=10.0))
    for _ in range(10):
        limits.settle(limits.admit(caller, 1), 1, dollars=1.0)
        await clock.advance(86400)
    with pytest.raises(LimitExceeded, match=r"\$10.00 per month \(the last 30 days\) is spent") as refused:
        limits.admit(caller, 1)
    assert 19 * 86400 <= (refused.value.retry_after or 0) <= 21 * 86400 and "It frees up in 2" in str(refused.value)
    await clock.advance(20 * 86400 + 3600)  # the first day's dollar has turned 30 days old
    assert limits.admit(caller, 1) is not None
    assert limits.usage(caller)["dollars_per_month"]["used"] == pytest.approx(9.0)


async def test_a_restart_restores_the_spend_from_the_ledger() -> None:
    clock = FakeClock()
    limits = Limits(clock)
    day, month = (
        Caller("k6", "custom", Quota(dollars_per_day=1.0)),
        Caller("k7", "custom", Quota(dollars_per_month=1.0)),
    )
    now = clock.time()
    limits.restore_dollars([("k6", now - 3600, 1.5), ("k7", now - 5 * 86400, 0.75), ("k7", now - 31 * 86400, 9.0)])
    limits.restore_dollars([("k7", now - 2 * 86400, 0.25)])
    with pytest.raises(LimitExceeded, match=r"\$1.00 per day is spent \(\$1.50 used\)"):
        limits.admit(day, 1)
    with pytest.raises(LimitExceeded, match=r"per month \(the last 30 days\) is spent \(\$1.00 used\)"):
        limits.admit(month, 1)  # the spend of 31 days ago is not counted, nor the month's in the day
    assert limits.usage(month)["dollars_per_day"]["used"] == 0


@pytest.mark.parametrize(
    ("quota", "words"),
    [
        (Quota(requests_per_minute=0), "0 requests per minute"),
        (Quota(tokens_per_day=0), "0 tokens per day"),
        (Quota(dollars_per_day=0), "a budget of $0.00 per day"),
        (Quota(dollars_per_month=0.0), "a budget of $0.00 per month"),
    ],
)
def test_a_limit_of_zero_lets_nothing_through_and_says_so_without_promising_a_time(quota: Quota, words: str) -> None:
    """A limit of 0 stops the key (a requests limit of 0 used to let every request through), and
    its refusal does not say the key frees up: nothing will."""
    limits = Limits(FakeClock())
    with pytest.raises(LimitExceeded) as refused:
        limits.admit(Caller("k0", "custom", quota), 10)
    assert refused.value.status == 429 and words in refused.value.message
    assert "frees up" not in refused.value.message and "Try again" not in refused.value.message
    assert limits.denials() == {"k0": 1}
