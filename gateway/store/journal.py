"""The usage ledger's journal: each row handed to the kernel before its answer's last byte goes
out, so a process killed at any moment loses no request whose answer a client received whole.

The writer thread commits rows in batches, up to a quarter of a second after they are queued
(``store.writer``), and a process killed in between (``kill -9``, the OOM killer, a crash in
native code) took those rows with it. So every row is first appended to a journal file — one
line, one ``os.write`` on an ``O_APPEND`` descriptor — on the event loop when its request
settles, which is before the answer's last bytes are written to the client. Once ``os.write``
returns, the line is in the kernel's page cache, which outlives the process. There is no
``fsync``: a flush to the disk per request would cost far more than the write, and only a power
cut or a crash of the whole system loses what the page cache holds (the database's last commits
go then too: it syncs only at checkpoints). The promise is about the process, not the power.

The gateway that serves the state folder (never a CLI command beside it) replays the journal at
start: rows the writer had committed before the kill are recognised by their key — request id,
kind, attempt number — and skipped, so replay never counts a request twice. While serving, the
journal is cut into numbered segments (``ledger-N.journal``, private like the database); once the
writer is done with every row of a segment, the file is deleted, so the journal holds about one
batch of rows, and nothing after a clean stop.

A row whose usage is still being counted (the upstream reported none) is journaled at once as
it is known then — held — so the answer need not wait for the count; its final form, written
when the count is done, replaces it. A held row is copied into each new segment until then.
"""

from __future__ import annotations

import ast
import logging
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from gateway.store import ledger
from gateway.store.db import StoreError
from gateway.store.ledger import KEY, VALUES, Key, LedgerRow
from gateway.store.writer import Sink, Writer

log = logging.getLogger("gateway.store")

PREFIX, SUFFIX = "ledger-", ".journal"
SEGMENT_BYTES = 1 << 20  # a segment is cut at this size, or sooner once the writer has caught up


class RowQueue(Protocol):
    """Where journaled rows go to be written: the SQLite writer thread, or the team's PostgreSQL
    batches (``store.postgres.recorder``); it reports the rows it is done with, in order."""

    def append(self, sink: Sink, row: Any) -> None: ...

    def when_done(self, sink: Sink, hook: Callable[[int], None]) -> None: ...


class Journal:
    """The live journal. ``write`` and ``hold`` run on the event loop, the writer thread reports
    the rows it is done with: a lock keeps the descriptor and the counts whole between them."""

    def __init__(self, folder: Path, writer: RowQueue, first: int = 1) -> None:
        self._folder = folder
        self._writer = writer
        self._lock = threading.Lock()
        self._number = first
        self._fd = _create(segment(folder, first))
        self._lines = 0  # written into this segment (held rows copied in not counted)
        self._size = 0
        self._cut: deque[tuple[int, int]] = deque()  # earlier segments: (number, rows queued by its end)
        self._held: dict[Key, bytes] = {}
        self._queued = 0  # rows journaled and queued for the writer
        self._done = 0  # of those, the rows the writer is done with (it keeps their order)
        self._failing = False
        self._closed = False
        writer.when_done(ledger.write, self._written)

    def write(self, row: LedgerRow) -> None:
        """Journal ``row`` and queue it for the writer (under one lock, so both keep one order)."""
        line = _line(row)
        with self._lock:
            self._append(line)
            if self._held:
                self._held.pop(KEY(row), None)
            self._writer.append(ledger.write, row)
            self._queued += 1

    def hold(self, row: LedgerRow) -> None:
        """Journal ``row`` as known now; ``write`` of a row with its key will replace it."""
        line = _line(row)
        with self._lock:
            self._append(line)
            self._held[KEY(row)] = line

    def close(self) -> None:
        """After the writer has stopped: the last segment goes unless a row is still held or the
        writer did not finish its rows (a stop that timed out: the next start replays them)."""
        with self._lock:
            self._closed = True
            os.close(self._fd)
            if not self._held and self._done == self._queued:
                _remove(segment(self._folder, self._number))

    def _append(self, line: bytes) -> None:
        try:
            os.write(self._fd, line)  # small, O_APPEND: one piece at the end of the file
        except OSError as exc:  # the disk is full: the row still goes to the database
            if not self._failing:
                log.error("cannot write the usage ledger's journal: %s", exc)
            self._failing = True
            return
        self._failing = False
        self._lines += 1
        self._size += len(line)

    def _written(self, rows: int) -> None:
        """On the writer thread: ``rows`` more are in the database (or given up on)."""
        with self._lock:
            self._done += rows
            if self._closed:
                return  # a writer still busy after the stop: its segment stays for the next start
            if self._lines and (self._done == self._queued or self._size >= SEGMENT_BYTES):
                self._start_segment()
            finished = []
            while self._cut and self._cut[0][1] <= self._done:
                finished.append(self._cut.popleft()[0])
        for number in finished:
            _remove(segment(self._folder, number))

    def _start_segment(self) -> None:
        """Write on in a new segment, the held rows first; the old one goes once its rows are done."""
        path = segment(self._folder, self._number + 1)
        held = b"".join(self._held.values())
        try:
            fd = _create(path)
        except OSError as exc:
            log.error("cannot start a new segment of the usage ledger's journal: %s", exc)
            return
        try:
            os.write(fd, held)
        except OSError as exc:
            log.error("cannot start a new segment of the usage ledger's journal: %s", exc)
            os.close(fd)
            _remove(path)
            return
        os.close(self._fd)
        self._cut.append((self._number, self._queued))
        self._number += 1
        self._fd = fd
        self._lines = 0
        self._size = len(held)


def replay(folder: Path, writer: Writer) -> Journal:
    """Write into the database what the journal holds and it does not (a killed process's last
    rows), remove the old segments, and start a new journal after them. Raises ``StoreError``
    when the journal cannot be read or written back (it is then left as it is)."""
    segments, rows = recover(folder)
    try:
        if rows:
            added = writer.run(lambda conn: ledger.write_missing(conn, rows)).result()
            log.info("usage ledger: %d row(s) recovered from the journal", added)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot recover the usage ledger's journal in {folder}: {exc}") from None
    return restart(folder, segments, writer)


def recover(folder: Path) -> tuple[list[Path], dict[Key, LedgerRow]]:
    """The journal's segments, oldest first, and the rows they hold by key (a row's final form
    replacing its held one); ``StoreError`` when they cannot be read."""
    segments = sorted(folder.glob(f"{PREFIX}*{SUFFIX}"), key=_number)
    rows: dict[Key, LedgerRow] = {}
    try:
        for path in segments:
            for line in path.read_bytes().splitlines():
                row = _row(line)
                if row is not None:
                    rows[KEY(row)] = row  # a final row replaces its held form
    except OSError as exc:
        raise StoreError(f"cannot recover the usage ledger's journal in {folder}: {exc}") from None
    return segments, rows


def restart(folder: Path, segments: list[Path], queue: RowQueue) -> Journal:
    """Once the rows ``recover`` found are written: remove their segments, journal on after them."""
    for path in segments:
        _remove(path)
    return Journal(folder, queue, first=max(map(_number, segments), default=0) + 1)


def segment(folder: Path, number: int) -> Path:
    return folder / f"{PREFIX}{number}{SUFFIX}"


def _number(path: Path) -> int:
    digits = path.name[len(PREFIX) : -len(SUFFIX)]
    return int(digits) if digits.isdigit() else 0


def _line(row: LedgerRow) -> bytes:
    """The row's values as a Python literal in ASCII (anything else escaped, so one line whatever
    the names hold): ~2.6 µs a row on the loop, where JSON takes ~3.7 (its floats go through
    Python code)."""
    return b"%a\n" % (VALUES(row),)


def _row(line: bytes) -> LedgerRow | None:
    """A journaled row (read as literals only), or None for a line the kill cut short (its answer
    never went out whole)."""
    try:
        return LedgerRow(*ast.literal_eval(line.decode("ascii")))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _create(path: Path) -> int:
    """Private from the start (SECURITY.md S32), appended to only."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.error("cannot remove %s: %s", path, exc)
