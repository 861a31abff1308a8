"""What the store costs on each back end: ``python tests/bench/bench_store.py``.

Side by side, through the storage seam: the SQLite database in a folder (the desktop's and a single
server's), one gateway on a real PostgreSQL on loopback (fsync and synchronous commits on, as a
deployment has them), and two gateways on it at once (two stores in this one process, so that row
shows the cost of sharing, not two processes' throughput). Figures: a client key read, an audit
event appended one at a time (microseconds), audit events a second with many at once (one chain:
PostgreSQL takes them one by one under its lock), and ledger rows a second in batches as a running
gateway writes them. Needs Debian's postgresql (scripts/test.sh installs it)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from gateway.clock import SystemClock
from gateway.store.database import Database
from gateway.store.ledger import LedgerRow
from gateway.store.postgres.store import open_store
from gateway.store.seam import Event, Store
from gateway.store.sqlite_store import SqliteStore

# tests/servers, once the gateway is imported (tests/gateway, a folder of tests, must not stand in for it)
sys.path.append(str(Path(__file__).parents[1]))
from servers.postgres import PostgresCluster, postgres_missing

BATCH = 250  # rows: a quarter of a second's at a thousand requests a second


def _rows(tag: str, n: int) -> list[LedgerRow]:
    return [
        LedgerRow(time.time(), f"{tag}-{i}", "request", "alice", "openai", "gpt-5", "openai", "main", "gpt-5",
                  1200, 300, 0, 0, False, 200, "", 850.0, 120.0, 1, cost=0.004, list_cost=0.004, tool="codex")
        for i in range(n)
    ]  # fmt: skip


async def _alone(stores: list[Store], n: int) -> tuple[float, float]:
    """Microseconds a key read, and an audit append, one at a time (on the first store)."""
    store = stores[0]
    start = time.perf_counter()
    for _ in range(n):
        await store.keys.get("0123456789ab")
    read = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for i in range(n):
        await store.audit.append(Event(int(time.time() * 1000), "bench", "bench.alone", {"n": i}))
    return read, (time.perf_counter() - start) / n * 1e6


async def _at_once(stores: list[Store], n: int, tag: str) -> tuple[float, float]:
    """Audit appends a second, and ledger rows a second, with all the stores busy at once."""
    start = time.perf_counter()
    events = (Event(int(time.time() * 1000), "bench", "bench.busy", {"n": i}) for i in range(n))
    await asyncio.gather(*(stores[i % len(stores)].audit.append(event) for i, event in enumerate(events)))
    appends = n / (time.perf_counter() - start)
    batches = [_rows(f"{tag}-{b}", BATCH) for b in range(max(2, n // 50))]
    start = time.perf_counter()
    await asyncio.gather(*(stores[b % len(stores)].ledger.write(rows) for b, rows in enumerate(batches)))
    return appends, len(batches) * BATCH / (time.perf_counter() - start)


async def main(n: int) -> None:
    cluster = PostgresCluster(durable=True)
    server = cluster.start()
    with tempfile.TemporaryDirectory(prefix="sb-bench-store-") as folder:
        db = Database(Path(folder), b"k" * 32, SystemClock())
        db.open()
        url = server.new_database()
        shared = [await open_store(url, server.password), await open_store(url, server.password)]
        try:
            local: list[Store] = [SqliteStore(db)]
            team: list[Store] = list(shared)
            rows = (("sqlite", local), ("postgres, 1 gateway", team[:1]), ("postgres, 2 gateways", team))
            print(f"{'store':<22}{'us/key read':>12}{'us/audit':>10}{'audit/s at once':>17}{'ledger rows/s':>15}")
            for name, stores in rows:
                read, append = await _alone(stores, n)
                appends, written = await _at_once(stores, n, name)
                print(f"{name:<22}{read:>12.0f}{append:>10.0f}{appends:>17.0f}{written:>15.0f}")
        finally:
            for store in shared:
                await store.close()
            db.close()
            cluster.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="a few hundred operations: that it runs, not its figures")
    args = parser.parse_args()
    if (reason := postgres_missing()) is not None:
        sys.exit(reason)
    asyncio.run(main(200 if args.quick else args.operations))
