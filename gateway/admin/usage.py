"""Usage reports from the ledger, read off the event loop: the views the admin route and the CLI's
``usage`` and ``report`` offer, and typed ones for the app's charts and tables. Times are seconds
since the epoch. Every total carries ``cost`` and ``list_cost`` in US dollars: ``list_cost -
cost`` is what subscriptions and local models saved; ``unpriced`` counts the requests whose route
had no known price."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from gateway.errors import InvalidRequest
from gateway.store import ledger
from gateway.store.ledger import NamedSpanTotals, NamedTotals, RecentRow, SpanTotals, UsageRow
from gateway.store.seam import LedgerReads

DAY = 86400.0
RECENT = 50  # rows in the "recent" view


class UsageReport(TypedDict):
    view: str
    since: float
    until: float
    rows: list[UsageRow]


class Usage:
    """``ledger``: the ledger's reads, on whichever back end keeps it (``gateway.store.seam``);
    ``now``: the wall clock (reports end at it unless told otherwise)."""

    def __init__(self, ledger: LedgerReads, now: Callable[[], float]) -> None:
        self._ledger = ledger
        self._now = now

    def _span(self, since: float | None, until: float | None) -> tuple[float, float]:
        now = self._now()
        return (now - DAY if since is None else since), (now + 1 if until is None else until)

    async def report(
        self, view: str, since: float | None = None, until: float | None = None, bucket: str = "hour"
    ) -> UsageReport:
        if view not in ledger.VIEWS:
            raise InvalidRequest(f"'view' must be one of {', '.join(ledger.VIEWS)}", param="view")
        if bucket not in ("hour", "day"):
            raise InvalidRequest("'bucket' must be hour or day", param="bucket")
        start, end = self._span(since, until)
        rows = await self._ledger.report(view, start, end, bucket)
        return {"view": view, "since": start, "until": end, "rows": rows}

    async def grouped(self, view: str, since: float | None = None) -> list[NamedTotals]:
        """By model, provider, caller, protocol or tool, the biggest first."""
        if view not in ledger.VIEWS or view in ("summary", "timeseries", "recent"):
            raise InvalidRequest(f"'{view}' is not a grouping of the ledger", param="view")
        start, end = self._span(since, None)
        return await self._ledger.grouped(view, start, end)

    async def timeseries(self, since: float | None = None, bucket: str = "hour") -> list[SpanTotals]:
        start, end = self._span(since, None)
        return await self._ledger.timeseries(start, end, bucket)

    async def timeseries_by(self, view: str, since: float | None = None, bucket: str = "hour") -> list[NamedSpanTotals]:
        """By model, provider, caller, protocol or tool, and by hour or day (for a chart's stacked bars)."""
        if view not in ledger.VIEWS or view in ("summary", "timeseries", "recent"):
            raise InvalidRequest(f"'{view}' is not a grouping of the ledger", param="view")
        start, end = self._span(since, None)
        return await self._ledger.timeseries_by(view, start, end, bucket)

    async def recent(self) -> list[RecentRow]:
        return await self._ledger.recent(RECENT)
