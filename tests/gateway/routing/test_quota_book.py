"""The quota book: an exhausted window benches its account until the reset; the rate of use
forecasts exhaustion; round-robin ranks accounts by the allowance they have left."""

from __future__ import annotations

from fakes.clock import FakeClock

from gateway.config.settings import HealthPolicy
from gateway.providers.access import Access
from gateway.providers.quota import QuotaWindow
from gateway.routing.health import Health
from gateway.routing.pool import Credential, KeyPool
from gateway.routing.quota import QuotaBook, QuotaRecord


class _Account:
    """A TokenSource the pool ranks and orders, never asked for a token."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.risk = "subscription-terms"

    def problem(self) -> str | None:
        return None

    def secrets(self) -> tuple[str, ...]:
        return ()

    async def access(self) -> Access:
        raise NotImplementedError

    async def renewed(self, stale: Access) -> Access:
        raise NotImplementedError


def test_an_exhausted_window_benches_the_account_until_it_resets() -> None:
    clock = FakeClock()
    health = Health(clock, HealthPolicy())
    kept: list[QuotaRecord] = []
    book = QuotaBook(clock, health, kept.append)
    book.observe("codex:a", "codex", [QuotaWindow("secondary", 100.0, clock.now + 3 * 86400, 604800)])
    blocked = health.blocked(Credential("codex", "codex:a", None), "gpt-5")
    assert blocked is not None and blocked[0] == "quota_exhausted" and blocked[1] > 2.9 * 86400
    assert kept[0].row()[:4] == ("codex:a", "secondary", "codex", 100.0)
    assert QuotaRecord.from_row(kept[0].row()) == kept[0]


def test_forecast_from_the_rate_of_use_within_one_window_period() -> None:
    clock = FakeClock()
    book = QuotaBook(clock, Health(clock, HealthPolicy()))
    reset = clock.now + 5 * 3600
    book.observe("codex:a", "codex", [QuotaWindow("primary", 10.0, reset, 18000)])
    clock.now += 3600
    book.observe("codex:a", "codex", [QuotaWindow("primary", 30.0, reset, 18000)])
    (record,) = book.records("codex:a")
    assert record.forecast() == clock.now + 3.5 * 3600  # 70 % left at 20 % an hour
    clock.now += 60
    book.observe("codex:a", "codex", [QuotaWindow("primary", 31.0, reset + 18000, 18000)])  # a new period starts afresh
    (record,) = book.records("codex:a")
    assert (record.first_percent, record.forecast()) == (31.0, None)
    slow = QuotaRecord("x", "codex", QuotaWindow("primary", 50.0, clock.now + 60), clock.now, 49.0, clock.now - 3600)
    assert slow.forecast() is None  # at this pace the window resets first


def test_round_robin_puts_the_account_with_most_allowance_first_and_rotates_ties() -> None:
    clock = FakeClock()
    book = QuotaBook(clock, Health(clock, HealthPolicy()))
    pool = KeyPool("codex", (), rank=book.allowance, accounts=True)
    pool.set_accounts("codex", [_Account("a"), _Account("b"), _Account("c")])
    assert {pool.order()[0].label for _ in range(3)} == {"a", "b", "c"}  # nothing known: plain rotation
    book.observe("a", "codex", [QuotaWindow("primary", 90.0, clock.now + 3600)])
    book.observe("b", "codex", [QuotaWindow("primary", 20.0, clock.now + 3600)])
    book.observe("c", "codex", [QuotaWindow("primary", 20.0, clock.now + 4 * 3600)])  # same left, longer to last
    assert [c.label for c in pool.order()] == ["b", "c", "a"]
    sequential = KeyPool("codex", (), "sequential", rank=book.allowance, accounts=True)
    sequential.set_accounts("codex", [_Account("a"), _Account("b")])
    assert [c.label for c in sequential.order()] == ["a", "b"]  # drains in order, whatever the rank
