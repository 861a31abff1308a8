"""The latest quota windows of every key and account, and what routing makes of them.

Answers' headers, stream events and the usage endpoints report windows as they come; the book
keeps the newest per (label, window). A window at 100% benches its account until the reset
(a weekly window: days, not seconds). For round-robin pools, ``allowance`` ranks the accounts:
the share of a window left per hour until it resets, so the account whose allowance would go to
waste soonest serves first. The first sample of each window period is kept too, so the rate of
use — and when, at that rate, the window runs out — can be forecast.

Changes go to ``persist`` (the database), so ``python -m gateway quota`` sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypedDict

from gateway.clock import Clock
from gateway.providers.quota import QuotaWindow
from gateway.routing.health import Health
from gateway.routing.pool import Credential
from gateway.store.accounts import QuotaRow

HOUR = 3600.0
MAX_LABELS = 10_000


class QuotaReading(TypedDict):
    """One window of one account or key as reports show it (times: seconds since the epoch)."""

    label: str
    provider: str
    window: str
    window_seconds: int | None
    used_percent: float
    unlimited: bool
    entitlement: float | None
    remaining: float | None
    resets_at: float | None
    resets_in: int | None
    exhausted_at: float | None  # when, at the pace of use, it runs out: always later than now
    taken_at: float
    reset: bool  # past its reset since it was reported: none of it used (as far as is known) until the next report


@dataclass(frozen=True, slots=True)
class QuotaRecord:
    """One window of one key or account as the book holds (and the database stores) it."""

    label: str
    provider: str
    window: QuotaWindow
    taken_at: float  # unix seconds
    first_percent: float  # the first sample of this window period, for the rate of use
    first_at: float

    def row(self) -> QuotaRow:
        w = self.window
        return (
            self.label,
            w.name,
            self.provider,
            w.used_percent,
            w.resets_at,
            w.window_seconds,
            w.entitlement,
            w.remaining,
            int(w.unlimited),
            self.taken_at,
            self.first_percent,
            self.first_at,
        )

    @classmethod
    def from_row(cls, row: QuotaRow) -> QuotaRecord:
        label, name, provider, used, resets, seconds, entitlement, remaining, unlimited, taken, first_p, first_at = row
        return cls(
            label,
            provider,
            QuotaWindow(name, used, resets, seconds, entitlement, remaining, bool(unlimited)),
            taken,
            first_p,
            first_at,
        )

    def forecast(self) -> float | None:
        """When, at the rate used since the period's first sample, the window runs out (unix
        seconds); None when it will not before it resets, or nothing is known of the rate."""
        w = self.window
        if w.unlimited or w.exhausted:
            return None
        spent, elapsed = w.used_percent - self.first_percent, self.taken_at - self.first_at
        if spent <= 0 or elapsed <= 0:
            return None
        out_at = self.taken_at + (100.0 - w.used_percent) * elapsed / spent
        return None if w.resets_at is not None and out_at >= w.resets_at else out_at

    def public(self, now: float) -> QuotaReading:
        """The window as of ``now``: one whose reset has passed is shown reset (nothing used, all of
        it left, no reset time nor forecast), not at its last reading with a reset "in 0 s"; a
        forecast already past (the pace measured then was not kept up) is dropped."""
        w = self.window
        reset = w.resets_at is not None and w.resets_at <= now and not w.unlimited
        forecast = None if reset else self.forecast()
        return {
            "label": self.label,
            "provider": self.provider,
            "window": w.name,
            "window_seconds": w.window_seconds,
            "used_percent": 0.0 if reset else round(w.used_percent, 1),
            "unlimited": w.unlimited,
            "entitlement": w.entitlement,
            "remaining": w.entitlement if reset else w.remaining,
            "resets_at": w.resets_at,
            "resets_in": None if w.resets_at is None or reset else max(1, round(w.resets_at - now)),
            "exhausted_at": forecast if forecast is not None and forecast > now else None,
            "taken_at": self.taken_at,
            "reset": reset,
        }


class QuotaBook:
    def __init__(self, clock: Clock, health: Health, persist: Callable[[QuotaRecord], None] | None = None) -> None:
        self._clock = clock
        self._health = health
        self._persist = persist
        self._records: dict[str, dict[str, QuotaRecord]] = {}  # label -> window name -> record

    def persist_to(self, persist: Callable[[QuotaRecord], None] | None) -> None:
        """Where the windows observed from now on are kept (a team's database, once joined)."""
        self._persist = persist

    def load(self, records: Iterable[QuotaRecord]) -> None:
        """Windows remembered from earlier runs (an exhausted one still benches its account)."""
        for record in records:
            self._keep(record)

    def observe(self, label: str, provider: str, windows: Iterable[QuotaWindow]) -> None:
        now = self._clock.time()
        held = self._records.get(label, {})
        for window in windows:
            last = held.get(window.name)
            same_period = (
                last is not None and _same_period(last.window, window) and window.used_percent >= last.first_percent
            )
            first = (
                (last.first_percent, last.first_at) if last is not None and same_period else (window.used_percent, now)
            )
            record = QuotaRecord(label, provider, window, now, *first)
            self._keep(record)
            if self._persist is not None:
                self._persist(record)

    def _keep(self, record: QuotaRecord) -> None:
        if record.label not in self._records and len(self._records) >= MAX_LABELS:
            return
        self._records.setdefault(record.label, {})[record.window.name] = record
        w = record.window
        if w.exhausted and w.resets_at is not None:
            left = w.resets_at - self._clock.time()
            if left > 0:
                self._health.bench(record.label, left, "quota_exhausted")

    def forget(self, label: str) -> None:
        self._records.pop(label, None)

    def records(self, label: str | None = None) -> list[QuotaRecord]:
        if label is not None:
            return list(self._records.get(label, {}).values())
        return [r for held in self._records.values() for r in held.values()]

    def allowance(self, cred: Credential) -> float:
        """Percent of its tightest window left per hour until that window resets (higher
        serves first); an account with nothing reported ranks as if it had a fresh window."""
        held = self._records.get(cred.label)
        if not held:
            return 100.0
        now = self._clock.time()
        best = float("inf")
        for record in held.values():
            w = record.window
            if w.unlimited or (w.resets_at is not None and w.resets_at <= now):  # reset since: as good as new
                continue
            hours = max((w.resets_at - now) / HOUR, 1.0) if w.resets_at is not None else 1.0
            best = min(best, (100.0 - w.used_percent) / hours)
        return 100.0 if best == float("inf") else best


def _same_period(before: QuotaWindow, now: QuotaWindow) -> bool:
    """The same window period: its reset has not moved on (a minute's slack for rounding)."""
    if before.resets_at is None or now.resets_at is None:
        return before.resets_at is now.resets_at
    return abs(before.resets_at - now.resets_at) < 60
