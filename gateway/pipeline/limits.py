"""What each caller may use: tiers of requests and tokens per minute and per day, in sliding windows,
and a key's own dollar budgets per day and per month.

A request is admitted only if one more request and its estimated tokens fit every window; the
estimate is reserved at once (so a burst of concurrent requests cannot all slip under a limit) and
settled with the real usage when the answer ends. Over a limit: ``LimitExceeded`` (429) with the
seconds until the request would fit, before any upstream is contacted.

Dollars are not reserved: a request's price is unknown until it is routed and answered. A key is
admitted while what it has spent is under its budget, and ``settle`` adds each answer's real cost;
so the requests under way when the budget is reached (all admitted while it was not) take the
spend past it, by as much as they cost together, and the next is refused. A budget of 0 admits none.
A month is a sliding 30 days, like the other windows: spending frees up as it turns 30 days old.

Windows are rings of small buckets (1 s of 60 for the minute, 10 min of 144 for the day, 1 h of 720
for the month). At a start they are filled again from the ledger (``restore``, ``restore_dollars``),
so a restart gives no key a fresh day or a fresh budget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn, TypedDict

from gateway.auth.callers import UNLIMITED, Caller
from gateway.clock import Clock
from gateway.core.durations import span
from gateway.core.sliding_window import Window
from gateway.errors import LimitExceeded

DAY = 86400.0
MONTH = 30 * DAY
MICRO = 1_000_000  # the windows count whole numbers: dollars go in as millionths


class LimitUsage(TypedDict):
    """One limit of one caller, as status shows it: what is used of it now, and the limit (None: none).
    Dollar limits (``dollars_per_day``, ``dollars_per_month``) are in dollars, the others whole counts."""

    used: float
    limit: float | None


class _Meter:
    __slots__ = ("dollars_day", "dollars_month", "requests_day", "requests_minute", "tokens_day", "tokens_minute")

    def __init__(self) -> None:
        self.requests_minute = Window(60, 60)
        self.requests_day = Window(DAY, 144)
        self.tokens_minute = Window(60, 60)
        self.tokens_day = Window(DAY, 144)
        self.dollars_day = Window(DAY, 144)  # in millionths of a dollar
        self.dollars_month = Window(MONTH, 720)


@dataclass(frozen=True, slots=True)
class Ticket:
    """An admitted request's reservation, settled once its usage is known."""

    caller: str
    reserved: int
    minute_bucket: int
    day_bucket: int


class Limits:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._meters: dict[str, _Meter] = {}
        self._denied: dict[str, int] = {}  # per caller, since the last ``denials()``

    def admit(self, caller: Caller, tokens: int) -> Ticket | None:
        """Reserve one request and ``tokens``, or raise ``LimitExceeded``; None when unlimited."""
        quota = caller.quota
        if quota is UNLIMITED:
            return None
        now = self._clock.monotonic()
        meter = self._meters.get(caller.id)
        if meter is None:
            meter = self._meters[caller.id] = _Meter()
        checks = (
            (meter.requests_minute, 1, quota.requests_per_minute, "requests per minute"),
            (meter.requests_day, 1, quota.requests_per_day, "requests per day"),
            (meter.tokens_minute, tokens, quota.tokens_per_minute, "tokens per minute"),
            (meter.tokens_day, tokens, quota.tokens_per_day, "tokens per day"),
        )
        for window, need, limit, what in checks:
            if limit is None:
                continue
            if limit == 0:
                self._stopped(caller, f"Rate limit reached: this key's limit is 0 {what}.", window)
            # A request larger than a whole window's allowance waits for an empty window, not forever.
            wait = window.wait(now, min(need, limit), limit)
            if wait > 0:
                self._denied[caller.id] = self._denied.get(caller.id, 0) + 1
                raise over_limit(caller, limit, what, wait)
        if quota.dollars_per_day is not None or quota.dollars_per_month is not None:
            self._check_budgets(caller, meter, now)
        meter.requests_minute.add(now, 1)
        meter.requests_day.add(now, 1)
        return Ticket(caller.id, tokens, meter.tokens_minute.add(now, tokens), meter.tokens_day.add(now, tokens))

    def _check_budgets(self, caller: Caller, meter: _Meter, now: float) -> None:
        """Refuse a key whose dollar budget is spent: admitted while spent < budget (nothing reserved)."""
        quota = caller.quota
        budgets = (
            (meter.dollars_day, quota.dollars_per_day, "per day"),
            (meter.dollars_month, quota.dollars_per_month, "per month (the last 30 days)"),
        )
        for window, budget, per in budgets:
            if budget is None:
                continue
            if budget == 0:
                self._stopped(caller, f"This key has a budget of $0.00 {per}: it may spend nothing.", window)
            wait = window.wait(now, 1, round(budget * MICRO))  # one more millionth fits: spent < budget
            if wait > 0:
                self._denied[caller.id] = self._denied.get(caller.id, 0) + 1
                raise over_budget(budget, per, window.total(now) / MICRO, wait)

    async def reserve(self, caller: Caller, tokens: int) -> Ticket | None:
        """``admit`` as every back end offers it (``LimitBook``): shared windows answer over the network."""
        return self.admit(caller, tokens)

    def _stopped(self, caller: Caller, message: str, window: Window) -> NoReturn:
        """Refuse a key whose limit is 0: nothing frees up, so the refusal names no time (its
        Retry-After, which a 429 needs, is the window's span)."""
        self._denied[caller.id] = self._denied.get(caller.id, 0) + 1
        raise LimitExceeded(message, retry_after=round(window.slots * window.width))

    def settle(self, ticket: Ticket | None, used: int, dollars: float = 0.0) -> None:
        """Replace a reservation with the tokens really used, and add what the answer cost."""
        if ticket is None or (meter := self._meters.get(ticket.caller)) is None:
            return
        now = self._clock.monotonic()
        delta = used - ticket.reserved
        if delta:
            meter.tokens_minute.adjust(now, ticket.minute_bucket, delta)
            meter.tokens_day.adjust(now, ticket.day_bucket, delta)
        if dollars > 0:
            micro = round(dollars * MICRO)
            meter.dollars_day.add(now, micro)
            meter.dollars_month.add(now, micro)

    def usage(self, caller: Caller) -> dict[str, LimitUsage]:
        """The live counters of one caller against its limits."""
        now = self._clock.monotonic()
        meter = self._meters.get(caller.id) or _Meter()
        quota = caller.quota
        return {
            "requests_per_minute": {"used": meter.requests_minute.total(now), "limit": quota.requests_per_minute},
            "requests_per_day": {"used": meter.requests_day.total(now), "limit": quota.requests_per_day},
            "tokens_per_minute": {"used": meter.tokens_minute.total(now), "limit": quota.tokens_per_minute},
            "tokens_per_day": {"used": meter.tokens_day.total(now), "limit": quota.tokens_per_day},
            "dollars_per_day": {"used": meter.dollars_day.total(now) / MICRO, "limit": quota.dollars_per_day},
            "dollars_per_month": {"used": meter.dollars_month.total(now) / MICRO, "limit": quota.dollars_per_month},
        }

    def restore(self, counts: Iterable[tuple[str, float, int, int]], minute: bool) -> None:
        """Counts from before a restart, as the ledger has them: (caller, when in seconds since the
        epoch, requests, tokens), into each caller's day windows, or with ``minute`` its minute ones."""
        now, wall = self._clock.monotonic(), self._clock.time()
        for caller, at, requests, tokens in counts:
            meter = self._meters.get(caller)
            if meter is None:
                meter = self._meters[caller] = _Meter()
            when = now - max(0.0, wall - at)
            pair = (meter.requests_minute, meter.tokens_minute) if minute else (meter.requests_day, meter.tokens_day)
            for window, amount in zip(pair, (requests, tokens), strict=True):
                if amount:
                    window.add(when, amount)

    def restore_dollars(self, costs: Iterable[tuple[str, float, float]]) -> None:
        """What callers spent before a restart, as the ledger has it: (caller, when in seconds since
        the epoch, dollars), in buckets of up to an hour, the last 30 days. Each goes into the month
        window, and into the day window when under a day old."""
        now, wall = self._clock.monotonic(), self._clock.time()
        for caller, at, dollars in costs:
            age = max(0.0, wall - at)
            if dollars <= 0 or age >= MONTH:
                continue
            meter = self._meters.get(caller)
            if meter is None:
                meter = self._meters[caller] = _Meter()
            micro = round(dollars * MICRO)
            meter.dollars_month.add(now - age, micro)
            if age < DAY:
                meter.dollars_day.add(now - age, micro)

    def denials(self) -> dict[str, int]:
        """Requests refused per caller since the last call (the audit log gets them per minute)."""
        denied, self._denied = self._denied, {}
        return denied


def over_limit(caller: Caller, limit: int, what: str, wait: float) -> LimitExceeded:
    seconds = max(1, math.ceil(wait))
    return LimitExceeded(
        f"Rate limit reached for this key ({caller.tier} tier: {limit:,} {what}). Try again in {seconds} s.",
        retry_after=seconds,
    )


def over_budget(budget: float, per: str, spent: float, wait: float) -> LimitExceeded:
    seconds = max(1, math.ceil(wait))
    return LimitExceeded(
        f"This key's budget of ${budget:,.2f} {per} is spent (${spent:,.2f} used). It frees up in {span(seconds)}.",
        retry_after=seconds,
    )
