"""The running gateway's usage rows into the team's PostgreSQL: journaled first, as on SQLite
(``store.journal``: a row is in the kernel's hands before its answer's last byte goes out), then
written in batches by one task on the event loop.

A batch that cannot be written (the database restarting, failing over) is kept and tried again,
and its rows stay in the journal until it is written, so neither an outage nor a kill loses one.
At start the journal a killed process left is written whole: the ledger skips the rows it holds
(``PostgresLedger.write``), so nothing is counted twice, whichever gateway wrote it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from gateway.store import journal
from gateway.store.ledger import LedgerRow
from gateway.store.postgres.ledger import PostgresLedger
from gateway.store.writer import LINGER, MAX_BATCH, Sink

log = logging.getLogger("gateway.store")

RETRY = 1.0  # seconds between tries of a batch the database refused


class Batcher:
    """The journal's row queue (``journal.RowQueue``) for PostgreSQL; ``run`` is its task. It
    tells the journal of written rows from a thread, as SQLite's writer thread does: the journal
    then starts and removes its files, which must not block the event loop."""

    def __init__(self, ledger: PostgresLedger, linger: float = LINGER, retry: float = RETRY) -> None:
        self._ledger = ledger
        self._linger = linger
        self._retry = retry
        self._rows: deque[LedgerRow] = deque()
        self._wake = asyncio.Event()
        self._done: Callable[[int], None] = lambda rows: None
        self._stopping = False
        self.failures = 0  # tries that failed (each batch is kept and tried again)

    def append(self, sink: Sink, row: Any) -> None:
        self._rows.append(row)
        self._wake.set()

    def when_done(self, sink: Sink, hook: Callable[[int], None]) -> None:
        self._done = hook

    async def run(self) -> None:
        """Write batches until ``stop``, then what is still queued."""
        while not (self._stopping and not self._rows):
            if not self._rows:
                self._wake.clear()
                await self._wake.wait()
                continue
            if not self._stopping:
                await asyncio.sleep(self._linger)  # a few large batches, not a commit a request
            batch = [self._rows[i] for i in range(min(MAX_BATCH, len(self._rows)))]
            try:
                await self._ledger.write(batch)
            except (psycopg.Error, OSError) as exc:
                self.failures += 1
                log.error("usage ledger: cannot write %d row(s) to the database, trying again: %s", len(batch), exc)
                if self._stopping:
                    return  # the journal keeps them for the next start
                await asyncio.sleep(self._retry)
                continue
            for _ in batch:
                self._rows.popleft()
            await asyncio.to_thread(self._done, len(batch))  # the journal cuts and removes its files

    def stop(self) -> None:
        """``run`` writes what is queued, tries once more if it fails, and returns."""
        self._stopping = True
        self._wake.set()


async def recorded(folder: Path, ledger: PostgresLedger, batcher: Batcher) -> journal.Journal:
    """Write what a killed process left in ``folder``'s journal, then journal on into ``batcher``.
    ``StoreError`` when the journal cannot be read; a database error when it cannot be written
    (the journal is then left as it is). Its files are read, removed and opened in a thread, off
    the event loop."""
    segments, rows = await asyncio.to_thread(journal.recover, folder)
    if rows:
        added = await ledger.write(list(rows.values()))
        log.info("usage ledger: %d row(s) recovered from the journal", added)
    return await asyncio.to_thread(journal.restart, folder, segments, batcher)


class Recording:
    """A serving gateway's ledger (the accountant's ``Ledger``): each row journaled on the event
    loop as on SQLite, then written by the batcher's task; ``close`` writes what is queued."""

    def __init__(self, journaled: journal.Journal, batcher: Batcher, task: asyncio.Task[None]) -> None:
        self._journal = journaled
        self._batcher = batcher
        self._task = task

    def record(self, row: LedgerRow) -> None:
        self._journal.write(row)

    def hold(self, row: LedgerRow) -> None:
        self._journal.hold(row)

    async def close(self) -> None:
        self._batcher.stop()
        await self._task
        await asyncio.to_thread(self._journal.close)


async def recording(folder: Path, ledger: PostgresLedger) -> Recording:
    """The batcher started and ``folder``'s journal recovered into ``ledger`` (``recorded``), then journaling on."""
    await asyncio.to_thread(folder.mkdir, mode=0o700, exist_ok=True)
    batcher = Batcher(ledger)
    task = asyncio.create_task(batcher.run(), name="ledger-batches")
    try:
        journaled = await recorded(folder, ledger, batcher)
    except BaseException:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise
    return Recording(journaled, batcher, task)
