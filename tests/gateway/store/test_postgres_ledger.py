"""The usage ledger on PostgreSQL: the same rows give the SQLite ledger's reports, view for view;
a batch written again (a journal replayed after a crash) adds nothing; two gateways writing at
once into the same hours' roll-ups lose no row and never deadlock."""

from __future__ import annotations

import asyncio
from typing import Any

from servers.backends import sqlite_db  # noqa: F401 (fixtures)
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.store.database import Database
from gateway.store.ledger import ATTEMPT, REQUEST, VIEWS, LedgerRow
from gateway.store.postgres.store import open_store
from gateway.store.seam import LedgerStore
from gateway.store.sqlite_store import SqliteStore

START = 1_700_000_000.0  # a few hours of rows from here


def _row(n: int, *, request: str | None = None, hour: int | None = None) -> LedgerRow:
    failed = n % 7 == 0
    return LedgerRow(
        ts=START + 3600 * (hour if hour is not None else n % 5) + n,
        request_id=request or f"r{n}",
        kind=ATTEMPT if n % 11 == 0 else REQUEST,
        caller=("alice", "bob", "local")[n % 3],
        protocol=("openai", "anthropic")[n % 2],
        model=("gpt-5", "claude-sonnet", "llama")[n % 3],
        provider=("openai", "anthropic", "ollama")[n % 3],
        account="main",
        upstream_model="m",
        prompt=100 + n,
        completion=0 if failed else 20 + n,
        cached=n % 4,
        reasoning=n % 3,
        estimated=n % 5 == 0,
        status=(502, 400)[n % 2] if failed else 200,
        error="upstream" if failed else "",
        latency_ms=10.5 + n,
        ttfb_ms=None if failed else 3.25,
        attempts=1 + n % 11 // 10,
        cost=0.001 * n,
        list_cost=0.002 * n,
        unpriced=n % 13 == 0,
        tool=("codex", "claude-code", "")[n % 3],
    )


def _rounded(value: Any) -> Any:
    """Sums of floats added in another order differ in their last bits."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


async def _everything(store: LedgerStore) -> dict[str, Any]:
    since, until = START - 3600, START + 6 * 3600
    seen: dict[str, Any] = {view: await store.report(view, since, until) for view in VIEWS}
    seen["timeseries-by-day"] = await store.report("timeseries", since, until, "day")
    for view in (v for v in VIEWS if v.startswith("by-")):
        seen[f"grouped {view}"] = await store.grouped(view, since, until)
        for bucket in ("hour", "day"):
            seen[f"{view} by {bucket}"] = await store.timeseries_by(view, since, until, bucket)
    seen["counts"] = sorted(await store.caller_counts(START - 10, 3600))
    seen["spend"] = sorted(await store.caller_spend(START - 3600))
    return _rounded(seen)  # type: ignore[no-any-return]


async def test_reports_on_postgresql_are_the_sqlite_ledgers_own(
    sqlite_db: Database,  # noqa: F811
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    rows = [_row(n) for n in range(120)]
    local = SqliteStore(sqlite_db).ledger
    shared = await open_store(postgres_url, postgres_server.password)
    try:
        for store in (local, shared.ledger):
            assert await store.write(rows[:70]) == 70
            assert await store.write(rows[70:]) == 50
        expected = await _everything(local)
        assert expected["summary"][0]["requests"] > 0 and len(expected["by-caller"]) == 3
        assert await _everything(shared.ledger) == expected
    finally:
        await shared.close()


async def test_a_batch_written_again_adds_nothing(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    store = await open_store(postgres_url, postgres_server.password)
    try:
        rows = [_row(n) for n in range(30)]
        assert await store.ledger.write(rows) == 30
        before = await _everything(store.ledger)
        assert await store.ledger.write([*rows[10:], _row(30)]) == 1  # a replay, and one new row
        after = await _everything(store.ledger)
        assert after["summary"][0]["requests"] == before["summary"][0]["requests"] + 1
        assert len(await store.ledger.recent(100)) == 31
    finally:
        await store.close()


async def test_two_gateways_writing_into_the_same_hours_lose_no_row(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    one, two = await asyncio.gather(*(open_store(postgres_url, postgres_server.password) for _ in range(2)))
    try:
        batches = [
            [_row(3 * k + 1, request=f"g{g}-b{b}-{k}", hour=k % 2) for k in range(25)]
            for g in range(2)
            for b in range(10)
        ]
        written = await asyncio.gather(
            *(gateway.ledger.write(batch) for gateway, batch in zip((one, two) * 10, batches, strict=True))
        )
        assert sum(written) == 500
        (summary,) = _rounded(await two.ledger.report("summary", START - 3600, START + 3 * 3600))
        assert summary["requests"] == sum(row.kind == REQUEST for batch in batches for row in batch)
    finally:
        await one.close()
        await two.close()
