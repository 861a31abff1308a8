"""The usage ledger in PostgreSQL: every gateway's rows in one table, summed into one set of
hourly roll-ups, so a report, a budget or a limit rebuilt at start sees the whole team's usage.

Rows are written in batches, each in one transaction with its roll-ups. A row already held (the
same request, kind and attempt, from a journal replayed after a crash) is skipped, and only the
rows inserted are summed, by the database, from the rows themselves: a replay adds nothing twice.
Roll-up rows are updated in one order by every gateway, so two batches never deadlock on them.

The report shapes are the SQLite ledger's own (``gateway.store.ledger``), from the same columns.
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from gateway.store import ledger
from gateway.store.ledger import (
    VALUES,
    CallerCount,
    LedgerRow,
    NamedSpanTotals,
    NamedTotals,
    RecentRow,
    SpanTotals,
    Totals,
    UsageRow,
    recent_row,
    totals_of,
)

_INSERT = (
    "INSERT INTO usage (ts, request_id, kind, caller, protocol, model, provider, account, upstream_model,"
    " prompt, completion, cached, reasoning, estimated, status, error, latency_ms, ttfb_ms, attempts,"
    " cost, list_cost, unpriced, tool) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::int,"
    " %s, %s, %s, %s, %s, %s, %s, %s::int, %s) ON CONFLICT (request_id, kind, attempts) DO NOTHING RETURNING id"
)
_ROLL_UP = (
    "INSERT INTO usage_rollup (dim, hour, name, requests, successful, prompt, completion, cached, reasoning,"
    " estimated, unpriced, latency_ms, cost, list_cost)"
    " SELECT d.dim, floor(u.ts / 3600)::bigint, d.name, count(*),"
    " count(*) FILTER (WHERE u.status < 400 AND u.error = ''), sum(u.prompt), sum(u.completion), sum(u.cached),"
    " sum(u.reasoning), sum(u.estimated), sum(u.unpriced), sum(u.latency_ms), sum(u.cost), sum(u.list_cost)"
    " FROM usage AS u CROSS JOIN LATERAL (VALUES ('all', ''), ('model', u.model), ('provider', u.provider),"
    " ('caller', u.caller), ('protocol', u.protocol), ('tool', u.tool)) AS d (dim, name)"
    " WHERE u.id = ANY(%s) AND u.kind = 'request' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    " ON CONFLICT (dim, hour, name) DO UPDATE SET"
    " requests = usage_rollup.requests + excluded.requests,"
    " successful = usage_rollup.successful + excluded.successful,"
    " prompt = usage_rollup.prompt + excluded.prompt, completion = usage_rollup.completion + excluded.completion,"
    " cached = usage_rollup.cached + excluded.cached, reasoning = usage_rollup.reasoning + excluded.reasoning,"
    " estimated = usage_rollup.estimated + excluded.estimated, unpriced = usage_rollup.unpriced + excluded.unpriced,"
    " latency_ms = usage_rollup.latency_ms + excluded.latency_ms, cost = usage_rollup.cost + excluded.cost,"
    " list_cost = usage_rollup.list_cost + excluded.list_cost"
)
# The SQLite ledger's report statements, in PostgreSQL's words (sums of integers are made integers again).
_BY_NAME = (
    "SELECT name, SUM(requests)::bigint, SUM(successful)::bigint, SUM(prompt)::bigint, SUM(completion)::bigint,"
    " SUM(cached)::bigint, SUM(reasoning)::bigint, SUM(estimated)::bigint, SUM(unpriced)::bigint,"
    " SUM(latency_ms), SUM(cost), SUM(list_cost)"
    " FROM usage_rollup WHERE dim = %(dim)s AND hour >= %(since)s AND hour < %(until)s GROUP BY name"
)
_BY_TIME = (
    "SELECT hour / %(per)s, SUM(requests)::bigint, SUM(successful)::bigint, SUM(prompt)::bigint,"
    " SUM(completion)::bigint, SUM(cached)::bigint, SUM(reasoning)::bigint, SUM(estimated)::bigint,"
    " SUM(unpriced)::bigint, SUM(latency_ms), SUM(cost), SUM(list_cost)"
    " FROM usage_rollup WHERE dim = 'all' AND hour >= %(since)s AND hour < %(until)s GROUP BY hour / %(per)s"
)
_BY_NAME_AND_TIME = (
    "SELECT name, hour / %(per)s, SUM(requests)::bigint, SUM(successful)::bigint, SUM(prompt)::bigint,"
    " SUM(completion)::bigint, SUM(cached)::bigint, SUM(reasoning)::bigint, SUM(estimated)::bigint,"
    " SUM(unpriced)::bigint, SUM(latency_ms), SUM(cost), SUM(list_cost) FROM usage_rollup"
    " WHERE dim = %(dim)s AND hour >= %(since)s AND hour < %(until)s GROUP BY name, hour / %(per)s"
)
_CALLER_COUNTS = (
    "SELECT caller, MAX(ts), COUNT(*), SUM(prompt + completion)::bigint FROM usage"
    " WHERE ts >= %s AND kind = 'request' AND caller != 'local' AND status NOT IN (400, 413, 415)"
    " GROUP BY caller, floor(ts / %s)"
)
_CALLER_SPEND = (
    "SELECT name, (hour + 1) * 3600.0, SUM(cost) FROM usage_rollup"
    " WHERE dim = 'caller' AND hour >= %s AND name != 'local' AND cost > 0 GROUP BY name, hour"
)
_RECENT = (
    "SELECT ts, request_id, kind, caller, protocol, model, provider, account, upstream_model, prompt,"
    " completion, cached, reasoning, estimated, status, error, latency_ms, ttfb_ms, attempts, cost, list_cost,"
    " unpriced, tool FROM usage ORDER BY id DESC LIMIT %s"
)


def _hours(since: float, until: float) -> dict[str, int]:
    return {"since": int(since // 3600), "until": int(-(-until // 3600))}


class PostgresLedger:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def write(self, rows: list[LedgerRow]) -> int:
        """Write the rows not held yet, and their sums; how many were new."""
        if not rows:
            return 0
        inserted: list[int] = []
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.executemany(_INSERT, [VALUES(row) for row in rows], returning=True)
            while True:
                inserted.extend(int(found[0]) for found in await cursor.fetchall())
                if not cursor.nextset():
                    break
            if inserted:
                await cursor.execute(_ROLL_UP, (inserted,))
        return len(inserted)

    async def _all(self, query: str, params: Any) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()

    async def summary(self, since: float, until: float) -> Totals:
        rows = await self._all(_BY_NAME, {**_hours(since, until), "dim": "all"})
        return totals_of(rows[0][1:] if rows else ())

    async def grouped(self, view: str, since: float, until: float) -> list[NamedTotals]:
        """By model, provider, caller, protocol or tool (a ``by-`` view), the biggest first."""
        rows = await self._all(_BY_NAME, {**_hours(since, until), "dim": view.removeprefix("by-")})
        out = [NamedTotals(name=row[0], **totals_of(row[1:])) for row in rows]
        out.sort(key=lambda r: (-r["total_tokens"], -r["requests"], r["name"]))
        return out

    async def timeseries(self, since: float, until: float, bucket: str = "hour") -> list[SpanTotals]:
        per = 24 if bucket == "day" else 1
        rows = await self._all(_BY_TIME, {**_hours(since, until), "per": per})
        spans = [SpanTotals(start_s=row[0] * per * 3600, **totals_of(row[1:])) for row in rows]
        return sorted(spans, key=lambda r: r["start_s"])

    async def timeseries_by(self, view: str, since: float, until: float, bucket: str = "hour") -> list[NamedSpanTotals]:
        """Each model's, provider's, caller's, protocol's or tool's hours or days (a ``by-`` view)."""
        per = 24 if bucket == "day" else 1
        params = {**_hours(since, until), "dim": view.removeprefix("by-"), "per": per}
        rows = await self._all(_BY_NAME_AND_TIME, params)
        out = [NamedSpanTotals(name=row[0], start_s=row[1] * per * 3600, **totals_of(row[2:])) for row in rows]
        return sorted(out, key=lambda r: (r["start_s"], r["name"]))

    async def report(self, view: str, since: float, until: float, bucket: str = "hour") -> list[UsageRow]:
        """One of ``ledger.VIEWS`` over [since, until), as the SQLite ledger's ``report`` gives it."""
        if view not in ledger.VIEWS:
            raise ValueError(f"unknown view {view!r}")
        if view == "recent":
            return list(await self.recent(50))
        if view == "timeseries":
            return list(await self.timeseries(since, until, bucket))
        if view == "summary":
            return [await self.summary(since, until)]
        return list(await self.grouped(view, since, until))

    async def recent(self, limit: int) -> list[RecentRow]:
        return [recent_row(*row) for row in await self._all(_RECENT, (limit,))]

    async def caller_counts(self, since: float, bucket_s: float) -> list[CallerCount]:
        """Each caller's requests and tokens since ``since``, in buckets of ``bucket_s`` seconds."""
        rows = await self._all(_CALLER_COUNTS, (since, bucket_s))
        return [(caller, at, n, tokens or 0) for caller, at, n, tokens in rows]

    async def caller_spend(self, since: float) -> list[tuple[str, float, float]]:
        """Each caller's dollars per hour since ``since``: (caller, the hour's end, dollars)."""
        rows = await self._all(_CALLER_SPEND, (int(since // 3600),))
        return [(caller, float(at), dollars) for caller, at, dollars in rows]
