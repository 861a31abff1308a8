"""The one thread that writes the database, fed by a queue, in batches.

Callers never wait on the disk: rows are queued with ``append`` (fire and forget) and operations
that need an answer with ``run`` (a ``concurrent.futures.Future``; ``call`` awaits one from
asyncio). After the first row of a batch the thread sleeps ``LINGER`` seconds, so that a steady
stream of requests commits in a few large batches: a commit costs far more than a row, and a
thread woken for every row would take the GIL from the event loop every time. An operation cuts
the sleep short (someone awaits it), and is written with whatever rows are waiting. So a crash
loses at most the rows of the last ``LINGER`` seconds — the usage ledger's are journaled first
(``store.journal``), so it loses none of those. Each operation runs in its own savepoint: one that
fails is rolled back alone and its caller gets the exception (an audited action fails closed).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from gateway.store.db import connect

log = logging.getLogger("gateway.store")

T = TypeVar("T")
Sink = Callable[[sqlite3.Connection, list[Any]], None]  # writes a batch of queued rows
Op = Callable[[sqlite3.Connection], Any]

MAX_BATCH = 5000
LINGER = 0.25  # seconds
_STOP = object()


class Writer:
    def __init__(self, path: Path, linger: float = LINGER) -> None:
        self.path = path
        self._linger = linger
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._committed: list[Callable[[sqlite3.Connection], None]] = []
        self._done: dict[Sink, Callable[[int], None]] = {}
        self._urgent = threading.Event()  # an operation (or the stop) is waiting
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self.failures = 0  # batches of rows that could not be written

    def start(self) -> None:
        """Open (and migrate) the database here, so a broken one is reported to the caller."""
        self._conn = connect(self.path)
        self._thread = threading.Thread(target=self._loop, name="db-writer", daemon=True)
        self._thread.start()

    def after_commit(self, hook: Callable[[sqlite3.Connection], None]) -> None:
        """``hook(conn)`` on the writer thread after every commit (the audit anchor is sealed so)."""
        self._committed.append(hook)

    def when_done(self, sink: Sink, hook: Callable[[int], None]) -> None:
        """``hook(n)`` on the writer thread once it is done with ``n`` more rows queued for
        ``sink``, in the order they were queued: written, or given up on with their batch (a
        failed write is logged and counted in ``failures``)."""
        self._done[sink] = hook

    def append(self, sink: Sink, row: Any) -> None:
        """Queue ``row`` for ``sink``, which gets all rows queued for it in one batch."""
        self._queue.put((sink, row))

    def run(self, op: Callable[[sqlite3.Connection], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((op, future))
        self._urgent.set()
        return future

    async def call(self, op: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.wrap_future(self.run(op))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is committed."""
        self.run(lambda conn: None).result(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread and close the database."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._urgent.set()
        self._thread.join(timeout)
        self._thread = None

    def _loop(self) -> None:
        conn = self._conn
        assert conn is not None
        stopping = False
        behind = False  # the last batch was full: more is waiting, so no sleep
        while not stopping:
            batch = [self._queue.get()]
            if not behind:
                self._urgent.wait(self._linger)
            self._urgent.clear()
            while len(batch) < MAX_BATCH and batch[-1] is not _STOP:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            behind = len(batch) >= MAX_BATCH
            if batch[-1] is _STOP:
                stopping = True
                batch.pop()
            if batch:
                self._write(conn, batch)
        conn.close()

    def _write(self, conn: sqlite3.Connection, batch: list[Any]) -> None:
        rows: dict[Sink, list[Any]] = {}
        ops: list[tuple[Op, Future[Any]]] = []
        for first, second in batch:
            if isinstance(second, Future):
                ops.append((first, second))
            else:
                rows.setdefault(first, []).append(second)
        try:
            answers = self._transaction(conn, rows, ops)
        finally:
            for sink, queued in rows.items():
                if (hook := self._done.get(sink)) is not None:
                    hook(len(queued))
        for future, value, error in answers:
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)

    def _transaction(
        self, conn: sqlite3.Connection, rows: dict[Sink, list[Any]], ops: list[tuple[Op, Future[Any]]]
    ) -> list[tuple[Future[Any], Any, BaseException | None]]:
        """The batch in one transaction; each operation's answer, to give once it is committed."""
        answers: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for sink, queued in rows.items():
                if _in_savepoint(conn, _writing(sink, queued))[1] is not None:
                    self.failures += 1
            for op, future in ops:
                if future.set_running_or_notify_cancel():
                    value, error = _in_savepoint(conn, op)
                    answers.append((future, value, error))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:  # the transaction itself failed (disk full, I/O error)
            log.error("database write failed: %s", exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self.failures += 1
            for _, future in ops:
                if future.running():
                    future.set_exception(exc)
            return []
        for hook in self._committed:
            try:
                hook(conn)
            except Exception:
                log.exception("after-commit hook failed")
        return answers


def _writing(sink: Sink, rows: list[Any]) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        sink(conn, rows)

    return op


def _in_savepoint(conn: sqlite3.Connection, op: Op) -> tuple[Any, BaseException | None]:
    """``op(conn)`` rolled back alone if it raises; returns (value, None) or (None, error)."""
    conn.execute("SAVEPOINT op")
    try:
        value = op(conn)
    except Exception as exc:
        conn.execute("ROLLBACK TO op")
        conn.execute("RELEASE op")
        if not isinstance(exc, LookupError | ValueError | PermissionError):
            log.exception("database operation failed")
        return None, exc
    conn.execute("RELEASE op")
    return value, None
