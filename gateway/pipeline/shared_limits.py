"""The callers' limits kept in Redis, so several gateways admit exactly each limit between them
(``shared/windows.py`` counts atomically, in Redis's time).

A Redis outage does not stop serving, nor open the doors: while Redis does not answer, each
gateway falls back to its own in-process windows (``Limits``), which the ledger filled at its
start; a key may then get up to the limit once per gateway, never unlimited use. Redis is asked
again ``RETRY`` seconds after a failure, so an outage costs a request at most one timeout.

A reservation is settled in the background (nothing waits on it), with the others settled within
``SETTLE_EVERY``: one round trip for them all, where each would cost this process a Redis call (a
request's admission is the one call it waits on). Status shows a caller's shared counters as of this
gateway's last look, refreshed each time status asks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from gateway.auth.callers import UNLIMITED, Caller
from gateway.clock import Clock
from gateway.pipeline.limits import MICRO, Limits, LimitUsage, Ticket, over_budget, over_limit
from gateway.shared.windows import Refusal, SharedWindows

log = logging.getLogger("gateway.limits")

RETRY = 5.0  # seconds after a failed call before Redis is asked again
SETTLE_EVERY = 0.005  # seconds a settlement waits for others to go to Redis with
# Each shared window: the quota it holds to, and how a refusal names it.
_RATES = {
    "requests_minute": ("requests_per_minute", "requests per minute"),
    "requests_day": ("requests_per_day", "requests per day"),
    "tokens_minute": ("tokens_per_minute", "tokens per minute"),
    "tokens_day": ("tokens_per_day", "tokens per day"),
}
_BUDGETS = {
    "dollars_day": ("dollars_per_day", "per day"),
    "dollars_month": ("dollars_per_month", "per month (the last 30 days)"),
}
_USAGE = {**{w: q for w, (q, _) in _RATES.items()}, **{w: q for w, (q, _) in _BUDGETS.items()}}


@dataclass(frozen=True, slots=True)
class SharedTicket(Ticket):
    """A reservation made in Redis (its buckets are Redis's), settled there."""


class SharedLimits:
    def __init__(
        self, windows: SharedWindows, local: Limits, clock: Clock, failures: tuple[type[BaseException], ...]
    ) -> None:
        self._windows = windows
        self._local = local
        self._clock = clock
        self._failures = failures
        self._down_until = 0.0
        self._denied: dict[str, int] = {}
        self._seen: dict[str, dict[str, int]] = {}  # per caller, the shared totals at the last look
        self._pending: set[asyncio.Task[None]] = set()
        self._owed: dict[tuple[str, int, int], list[int]] = {}  # (caller, buckets) -> [tokens, micro-dollars]
        self._sending: asyncio.TimerHandle | None = None

    async def reserve(self, caller: Caller, tokens: int) -> Ticket | None:
        quota = caller.quota
        if quota is UNLIMITED:
            return None
        if self._clock.monotonic() < self._down_until:
            return self._local.admit(caller, tokens)
        budgets = (quota.dollars_per_day, quota.dollars_per_month)
        limits = (
            quota.requests_per_minute,
            quota.requests_per_day,
            quota.tokens_per_minute,
            quota.tokens_per_day,
            *(None if b is None else round(b * MICRO) for b in budgets),
        )
        if 0 in limits:  # a stopped key: refused as the fallback words it, nothing to count
            return self._local.admit(caller, tokens)
        try:
            answer = await self._windows.admit(caller.id, tokens, limits)
        except self._failures as exc:
            self._failed("admit", exc)
            return self._local.admit(caller, tokens)
        if isinstance(answer, Refusal):
            self._denied[caller.id] = self._denied.get(caller.id, 0) + 1
            raise self._refusal(caller, answer)
        return SharedTicket(caller.id, tokens, *answer)

    def _refusal(self, caller: Caller, refusal: Refusal) -> Exception:
        if refusal.window in _RATES:
            name, what = _RATES[refusal.window]
            return over_limit(caller, getattr(caller.quota, name), what, refusal.wait)
        name, per = _BUDGETS[refusal.window]
        return over_budget(getattr(caller.quota, name), per, refusal.used / MICRO, refusal.wait)

    def _failed(self, what: str, exc: BaseException) -> None:
        if self._clock.monotonic() >= self._down_until:
            log.warning(
                "Redis did not answer (%s: %s): limits are this gateway's own for now", what, type(exc).__name__
            )
        self._down_until = self._clock.monotonic() + RETRY

    def settle(self, ticket: Ticket | None, used: int, dollars: float = 0.0) -> None:
        if not isinstance(ticket, SharedTicket):
            self._local.settle(ticket, used, dollars)
            return
        micro = round(dollars * MICRO) if dollars > 0 else 0
        delta = used - ticket.reserved
        if delta or micro:
            owed = self._owed.setdefault((ticket.caller, ticket.minute_bucket, ticket.day_bucket), [0, 0])
            owed[0] += delta
            owed[1] += micro
            if self._sending is None:
                self._sending = asyncio.get_running_loop().call_later(SETTLE_EVERY, self._send)

    def _send(self) -> None:
        self._sending = None
        owed, self._owed = self._owed, {}
        settlements = [(caller, minute, day, tokens, micro) for (caller, minute, day), (tokens, micro) in owed.items()]
        self._background(self._windows.settle(settlements), "settle")

    def _background(self, coroutine: Coroutine[Any, Any, None], what: str) -> None:
        async def run() -> None:
            try:
                await coroutine
            except self._failures as exc:
                self._failed(what, exc)

        task = asyncio.get_running_loop().create_task(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def usage(self, caller: Caller) -> dict[str, LimitUsage]:
        self._background(self._look(caller.id), "usage")
        seen = self._seen.get(caller.id)
        if seen is None:
            return self._local.usage(caller)
        quota = caller.quota
        return {
            name: {
                "used": seen[window] / MICRO if window in _BUDGETS else seen[window],
                "limit": getattr(quota, name),
            }
            for window, name in _USAGE.items()
        }

    async def _look(self, caller: str) -> None:
        self._seen[caller] = await self._windows.totals(caller)

    def restore(self, counts: Iterable[tuple[str, float, int, int]], minute: bool) -> None:
        """Into the fallback only: Redis's windows outlive a gateway's restart (and N gateways
        restoring the same ledger into them would count it N times)."""
        self._local.restore(counts, minute)

    def restore_dollars(self, costs: Iterable[tuple[str, float, float]]) -> None:
        self._local.restore_dollars(costs)

    def denials(self) -> dict[str, int]:
        denied, self._denied = self._denied, {}
        for caller, count in self._local.denials().items():
            denied[caller] = denied.get(caller, 0) + count
        return denied

    async def drained(self) -> None:
        """Wait for the settlements owed and in flight (a stop, or a test reading the windows)."""
        if self._sending is not None:
            self._sending.cancel()
            self._send()
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
