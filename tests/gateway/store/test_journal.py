"""The usage ledger's journal (issue 20, item 13; SECURITY.md S35: no unrecorded actions, S32:
private files): rows a killed process had only journaled are written at the next start, once
each; a row whose usage was still being counted is held and then replaced; the journal empties
as the writer catches up, and is cut into segments while it does not."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from gateway.auth.callers import LOCAL
from gateway.clock import SystemClock
from gateway.core.chat import ChatRequest, Message, TextPart
from gateway.pipeline.accounting import Accountant, Served
from gateway.pipeline.limits import Limits
from gateway.pipeline.metrics import Metrics
from gateway.store import journal, ledger
from gateway.store.db import FILE_NAME
from gateway.store.journal import Journal, replay
from gateway.store.ledger import REQUEST, LedgerRow
from gateway.store.writer import Writer


def row(n: int, *, prompt: int = 12, estimated: bool = False) -> LedgerRow:
    return LedgerRow(
        ts=1_700_000_000.0 + n,
        request_id=f"req_{n:04d}",
        kind=REQUEST,
        caller="local",
        protocol="openai-chat",
        model="pool/gpt-test",
        provider="pool",
        account="pool#1",
        upstream_model="gpt-test",
        prompt=prompt,
        completion=5,
        cached=0,
        reasoning=0,
        estimated=estimated,
        status=200,
        error="",
        latency_ms=3.5,
        ttfb_ms=None,
        attempts=1,
    )


class KilledWriter:
    """A writer killed before it wrote anything: rows are queued, and never written."""

    def __init__(self) -> None:
        self.queued: list[LedgerRow] = []
        self.done: Callable[[int], None] | None = None

    def append(self, sink: Any, row: LedgerRow) -> None:
        self.queued.append(row)

    def when_done(self, sink: Any, hook: Callable[[int], None]) -> None:
        self.done = hook


def killed_journal(folder: Path) -> tuple[Journal, KilledWriter]:
    writer = KilledWriter()
    return Journal(folder, cast(Writer, writer)), writer


def segments(folder: Path) -> dict[str, int]:
    """The journal's files and their number of lines."""
    return {p.name: len(p.read_bytes().splitlines()) for p in sorted(folder.glob("ledger-*.journal"))}


def usage_rows(db: Path) -> list[tuple[str, int, int]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT request_id, prompt, estimated FROM usage ORDER BY id"))


@pytest.fixture
def writer(tmp_path: Path) -> Any:
    writer = Writer(tmp_path / FILE_NAME)
    writer.start()
    yield writer
    writer.close()


def test_rows_only_journaled_before_a_kill_are_written_at_the_next_start_once(tmp_path: Path, writer: Writer) -> None:
    killed, _ = killed_journal(tmp_path)
    for n in range(1, 6):
        killed.write(row(n))
    # The writer had committed the first three before the kill; the last two were in its batch.
    writer.run(lambda conn: ledger.write(conn, [row(1), row(2), row(3)])).result()
    with (tmp_path / "ledger-1.journal").open("ab") as cut_short:
        cut_short.write(b"(1700000000.0, 'req_99")  # the kill fell inside a write: that answer never went out whole

    replay(tmp_path, writer).close()
    killed.close()
    assert [r[0] for r in usage_rows(tmp_path / FILE_NAME)] == [f"req_{n:04d}" for n in range(1, 6)]
    totals = writer.run(lambda conn: ledger.summary(conn, 0, 2e9)).result()
    assert totals["requests"] == 5  # the hourly roll-ups count the recovered rows too
    assert segments(tmp_path) == {}

    killed, _ = killed_journal(tmp_path)  # killed again right after it started: nothing new
    killed.write(row(5))
    replay(tmp_path, writer).close()
    killed.close()
    assert len(usage_rows(tmp_path / FILE_NAME)) == 5


def test_a_held_row_is_replaced_by_its_final_form_or_else_kept_as_it_was(tmp_path: Path, writer: Writer) -> None:
    killed, _ = killed_journal(tmp_path)
    killed.hold(row(1, prompt=0))
    killed.hold(row(2, prompt=0))
    killed.write(row(1, prompt=40, estimated=True))  # counted; the kill came before row 2's count
    replay(tmp_path, writer).close()
    killed.close()
    assert usage_rows(tmp_path / FILE_NAME) == [("req_0001", 40, 1), ("req_0002", 0, 0)]


def test_the_journal_empties_once_the_writer_has_written_its_rows(tmp_path: Path, writer: Writer) -> None:
    old = os.umask(0o022)
    try:
        live = replay(tmp_path, writer)
        live.hold(row(1, prompt=0))
        for n in range(2, 50):
            live.write(row(n))
        assert segments(tmp_path) == {"ledger-1.journal": 49}
        assert stat.S_IMODE((tmp_path / "ledger-1.journal").stat().st_mode) == 0o600
        writer.flush()
        assert segments(tmp_path) == {"ledger-2.journal": 1}  # only the row still held goes on
        live.write(row(1, prompt=40, estimated=True))
        writer.flush()
        assert segments(tmp_path) == {"ledger-3.journal": 0}
    finally:
        os.umask(old)
    writer.close()
    live.close()
    assert segments(tmp_path) == {}
    assert len(usage_rows(tmp_path / FILE_NAME)) == 49


def test_a_writer_that_never_catches_up_still_has_its_written_segments_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "SEGMENT_BYTES", 1)  # cut at every report from the writer
    live, writer = killed_journal(tmp_path)
    assert writer.done is not None
    for n in range(10):
        live.write(row(n))
    writer.done(4)  # rows queued since are in its next batch
    assert segments(tmp_path) == {"ledger-1.journal": 10, "ledger-2.journal": 0}
    for n in range(10, 15):
        live.write(row(n))
    writer.done(6)  # the first segment's rows are all written: it goes
    assert segments(tmp_path) == {"ledger-2.journal": 5, "ledger-3.journal": 0}
    writer.done(5)
    assert segments(tmp_path) == {"ledger-3.journal": 0}


async def test_an_answer_whose_usage_is_still_being_counted_is_held_at_once() -> None:
    held: list[LedgerRow] = []
    recorded: list[LedgerRow] = []

    class Rows:
        def record(self, row: LedgerRow) -> None:
            recorded.append(row)

        def hold(self, row: LedgerRow) -> None:
            held.append(row)

    accountant = Accountant(SystemClock(), Limits(SystemClock()), Metrics(), Rows())
    tally = await accountant.admit(LOCAL, "openai-chat", "pool/gpt-test", "req_1", lambda: 0)
    request = ChatRequest(model="gpt-test", messages=(Message("user", (TextPart("hello there"),)),))

    class Answer:
        def request(self) -> ChatRequest:
            return request

        def output(self) -> str:
            return "hi"

    accountant.count(tally, Served("pool", "pool#1", "gpt-test"), None, Answer())
    assert [(r.request_id, r.prompt, r.status) for r in held] == [("req_1", 0, 200)] and recorded == []
    await accountant.counted()
    assert [ledger.KEY(r) for r in recorded] == [ledger.KEY(held[0])]
    assert recorded[0].estimated and recorded[0].prompt > 0


def test_a_stop_before_the_writer_finished_keeps_the_rows_for_the_next_start(tmp_path: Path) -> None:
    """The database's stop waits for its writer only so long: rows the writer had not finished
    stay journaled (the next start writes them), and the writer finishing late touches nothing."""
    live, writer = killed_journal(tmp_path)
    assert writer.done is not None
    for n in range(3):
        live.write(row(n))
    live.close()
    assert segments(tmp_path) == {"ledger-1.journal": 3}
    writer.done(3)  # the late batch: no new segment on a closed journal, the old one stays
    assert segments(tmp_path) == {"ledger-1.journal": 3}
    later = Writer(tmp_path / FILE_NAME)
    later.start()
    try:
        replay(tmp_path, later).close()
        later.flush()
    finally:
        later.close()
    assert [r[0] for r in usage_rows(tmp_path / FILE_NAME)] == ["req_0000", "req_0001", "req_0002"]
