"""The database as the running gateway uses it: the writer thread, a reader thread, the audit
anchor sealed after every commit, and the ledger's queue (behind its journal, when serving)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from gateway.clock import Clock
from gateway.store import audit, journal, ledger
from gateway.store.db import FILE_NAME
from gateway.store.reader import Reader
from gateway.store.seam import Event
from gateway.store.writer import Writer

log = logging.getLogger("gateway.store")


class Database:
    def __init__(self, data_dir: Path, anchor_key: bytes, clock: Clock) -> None:
        self.path = data_dir / FILE_NAME
        self._data_dir = data_dir
        self.writer = Writer(self.path)
        self.read = Reader(self.path)
        self.anchor = audit.Anchor(data_dir / audit.ANCHOR_FILE, anchor_key)
        self._clock = clock
        self.anchor_problem: str | None = None  # set when the chain's end and the anchor disagree
        self._journal: journal.Journal | None = None
        # A team's audit chain (``share_audit``): where ``audit`` appends instead, on the event loop.
        self._shared_audit: tuple[Callable[[Event], Coroutine[Any, Any, int]], asyncio.AbstractEventLoop] | None = None

    def open(self) -> None:
        self.writer.start()
        self.writer.run(self._check_anchor).result()
        self.writer.after_commit(self._seal)

    def _check_anchor(self, conn: sqlite3.Connection) -> None:
        """At start: the chain must end where it was sealed. If not (rows cut off, an older copy
        restored) the anchor is left as it is, so verification keeps failing until a person looks."""
        last = audit.head(conn)
        sealed = self.anchor.read()
        if isinstance(sealed, tuple):
            seq, hash_ = sealed
            if seq > last[0] or (
                seq and conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone() != (hash_,)
            ):
                self.anchor_problem = f"the audit log does not reach its sealed head (row {seq})"
        elif last[0]:
            self.anchor_problem = sealed
        if self.anchor_problem:
            log.error("audit log: %s; run 'python -m gateway audit verify'", self.anchor_problem)
        else:
            self.anchor.seal(*last)

    def _seal(self, conn: sqlite3.Connection) -> None:
        if self.anchor_problem is None:
            self.anchor.seal(*audit.head(conn))

    def keep_journal(self) -> None:
        """For the gateway that serves the folder only (it removes the journal's files): recover
        the rows a killed process left in the ledger's journal, and journal every row from now."""
        self._journal = journal.replay(self._data_dir, self.writer)

    def record(self, row: ledger.LedgerRow) -> None:
        if self._journal is not None:
            self._journal.write(row)
        else:
            self.writer.append(ledger.write, row)

    def hold(self, row: ledger.LedgerRow) -> None:
        """A row as known before its final form comes to ``record`` (its usage is being counted)."""
        if self._journal is not None:
            self._journal.hold(row)

    def audit(self, actor: str, action: str, payload: dict[str, Any]) -> Future[int]:
        """Append an audit event (its own transaction); the future fails if it could not be written.
        From any thread: to the team's chain, when shared, on its event loop."""
        ts = int(self._clock.time() * 1000)
        if self._shared_audit is not None:
            append, loop = self._shared_audit
            return asyncio.run_coroutine_threadsafe(append(Event(ts, actor, action, payload)), loop)
        return self.writer.run(lambda conn: audit.append(conn, ts, actor, action, payload))

    def share_audit(self, append: Callable[[Event], Coroutine[Any, Any, int]] | None) -> None:
        """From now on (called on the event loop), ``audit`` appends with ``append`` (a team's chain);
        None: to this database again."""
        self._shared_audit = (append, asyncio.get_running_loop()) if append is not None else None

    def now_ms(self) -> int:
        return int(self._clock.time() * 1000)

    def close(self) -> None:
        self.writer.close()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self.read.close()
