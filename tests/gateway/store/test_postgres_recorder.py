"""Usage rows into the team's PostgreSQL from running processes: journaled, then batched. Two
processes record at once and one is killed with SIGKILL mid-run: once its journal is replayed, the
ledger holds one row for every request either process answered (none lost, none twice), and the
audit chain both appended to verifies."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.store import journal
from gateway.store import ledger as ledger_rows
from gateway.store.postgres.ledger import PostgresLedger
from gateway.store.postgres.recorder import Batcher, recorded
from gateway.store.postgres.store import PASSWORD_ENV, open_store

ROWS = 400
CHILD = """
import asyncio, os, sys
from pathlib import Path
from gateway.store.ledger import LedgerRow
from gateway.store.postgres.recorder import Batcher, recorded
from gateway.store.postgres.store import open_store
from gateway.store.seam import Event

async def main(url, folder, name, count):
    store = await open_store(url, os.environ["SWITCHBOARD_STORE_PASSWORD"])
    batcher = Batcher(store.ledger, linger=0.05)
    task = asyncio.create_task(batcher.run())
    journal = await recorded(Path(folder), store.ledger, batcher)
    for n in range(count):
        row = LedgerRow(1.7e9 + n, f"{name}-{n}", "request", "alice", "openai", "m", "p", "a", "m",
                        10, 5, 0, 0, False, 200, "", 12.0, 3.0, 1)
        journal.write(row)
        print(row.request_id, flush=True)  # answered: the row is journaled first
        if n % 25 == 0:
            await store.audit.append(Event(1_700_000_000_000 + n, name, "test.progress", {"n": n}))
        await asyncio.sleep(0.002)
    batcher.stop()
    await task
    journal.close()
    await store.close()

asyncio.run(main(*sys.argv[1:4], int(sys.argv[4])))
"""


async def _start(url: str, password: str, folder: Path, name: str) -> asyncio.subprocess.Process:
    folder.mkdir()
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        url,
        str(folder),
        name,
        str(ROWS),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, PASSWORD_ENV: password},
    )


async def _answered(child: asyncio.subprocess.Process, kill_after: int | None = None) -> set[str]:
    assert child.stdout is not None
    answered: set[str] = set()
    while line := await child.stdout.readline():
        answered.add(line.decode().strip())
        if kill_after is not None and len(answered) == kill_after:
            child.send_signal(signal.SIGKILL)
    await child.wait()
    return answered


async def test_a_gateway_killed_mid_run_loses_no_answered_row_once_its_journal_is_replayed(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    await (await open_store(postgres_url, postgres_server.password)).close()  # migrated before both start
    killed = await _start(postgres_url, postgres_server.password, tmp_path / "killed", "killed")
    survivor = await _start(postgres_url, postgres_server.password, tmp_path / "survivor", "survivor")
    lost, kept = await asyncio.gather(_answered(killed, kill_after=ROWS // 3), _answered(survivor))
    assert killed.returncode == -signal.SIGKILL and survivor.returncode == 0
    assert len(kept) == ROWS and ROWS // 3 <= len(lost) < ROWS

    store = await open_store(postgres_url, postgres_server.password)
    try:
        batcher = Batcher(store.ledger)
        task = asyncio.create_task(batcher.run())
        journal = await recorded(tmp_path / "killed", store.ledger, batcher)  # the restart
        batcher.stop()
        await task
        journal.close()
        async with await psycopg.AsyncConnection.connect(postgres_url, password=postgres_server.password) as conn:
            cursor = await conn.execute("SELECT request_id FROM usage")
            held = [row[0] for row in await cursor.fetchall()]
        assert len(held) == len(set(held))
        assert lost | kept <= set(held)  # every answered request has its row
        assert not list((tmp_path / "killed").iterdir()) and not list((tmp_path / "survivor").iterdir())
        verdict = await store.audit.verify()
        assert verdict.ok and verdict.checked >= ROWS // 25 + ROWS // 3 // 25
    finally:
        await store.close()


async def test_the_journal_is_read_and_reopened_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its files are blocking I/O: a start on the loop would stall every request the process serves."""
    threads: list[int] = []

    def watched(call: Any) -> Any:
        def run(*args: Any) -> Any:
            threads.append(threading.get_ident())
            return call(*args)

        return run

    monkeypatch.setattr(journal, "recover", watched(journal.recover))
    monkeypatch.setattr(journal, "restart", watched(journal.restart))
    ledger = cast(PostgresLedger, None)  # an empty journal writes nothing to the database
    opened = await recorded(tmp_path, ledger, Batcher(ledger))
    opened.close()
    assert len(threads) == 2 and threading.get_ident() not in threads


async def test_the_journal_hears_of_written_rows_off_the_event_loop() -> None:
    """Then it starts and removes its segments: file work, kept off the loop as on SQLite's writer thread."""

    class Ledger:
        async def write(self, rows: list[Any]) -> int:
            return len(rows)

    told_on: list[int] = []
    batcher = Batcher(cast(PostgresLedger, Ledger()), linger=0)
    batcher.when_done(ledger_rows.write, lambda rows: told_on.append(threading.get_ident()))
    task = asyncio.create_task(batcher.run())
    batcher.append(ledger_rows.write, "a row")
    batcher.stop()
    await task
    assert told_on and threading.get_ident() not in told_on
