"""The ledger's money columns (issue 23 point 6): schema step 8 on a database of step 7, what
each row cost and would have cost at list price summed into every roll-up and view, a by-tool
view, rows of unknown price counted, each key's hourly spend for its budgets after a restart,
and a journal written by the version before still replayed."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.store import db, ledger
from gateway.store.db import FILE_NAME
from gateway.store.journal import replay
from gateway.store.ledger import REQUEST, LedgerRow
from gateway.store.migrations import STEPS
from gateway.store.writer import Writer

HOUR = 3600
BASE = 500_000 * HOUR


def row(n: int, **changes: object) -> LedgerRow:
    made = LedgerRow(
        BASE + n, f"req_{n}", REQUEST, "key_a", "openai-chat", "gpt-5", "openai", "k#1", "gpt-5",
        1000, 500, 0, 0, False, 200, "", 3.0, None, 1,
    )  # fmt: skip
    return replace(made, **changes)  # type: ignore[arg-type]


def v7(path: Path) -> sqlite3.Connection:
    """A database as the version before left it, with a request in its ledger."""
    conn = sqlite3.connect(path, isolation_level=None)
    for step in STEPS[:7]:
        for statement in step.split(";"):
            if statement.strip():
                conn.execute(statement)
    conn.execute(
        "INSERT INTO usage (ts, request_id, kind, caller, protocol, model, provider, account, upstream_model,"
        " prompt, completion, cached, reasoning, estimated, status, error, latency_ms, ttfb_ms, attempts)"
        f" VALUES ({BASE}, 'old', 'request', 'key_a', 'openai-chat', 'gpt-5', 'openai', 'k', 'gpt-5',"
        " 10, 5, 0, 0, 0, 200, '', 1.0, NULL, 1)"
    )
    conn.execute(
        "INSERT INTO usage_rollup VALUES ('all', ?, '', 1, 1, 10, 5, 0, 0, 0, 1.0)", (BASE // HOUR,)
    )  # fmt: skip
    return conn


def test_step_8_adds_the_money_columns_to_a_step_7_ledger_and_marks_its_rows_unpriced(tmp_path: Path) -> None:
    conn = v7(tmp_path / FILE_NAME)
    db.migrate(conn)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 8
    assert conn.execute("SELECT cost, list_cost, unpriced, tool FROM usage").fetchall() == [(0.0, 0.0, 1, "")]
    before = ledger.summary(conn, BASE, BASE + HOUR)
    assert (before["requests"], before["cost"], before["unpriced"]) == (1, 0.0, 1)
    ledger.write(conn, [row(1, cost=0.5, list_cost=0.5)])
    after = ledger.summary(conn, BASE, BASE + HOUR)
    assert (after["requests"], after["cost"], after["list_cost"], after["unpriced"]) == (2, 0.5, 0.5, 1)


def test_every_view_sums_cost_and_list_cost_and_by_tool_groups_by_the_client_tool(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / FILE_NAME)
    ledger.write(
        conn,
        [
            row(1, cost=0.25, list_cost=0.25, tool="claude-code"),
            row(2, provider="codex", cost=0.0, list_cost=1.5, tool="codex"),  # a subscription saved $1.50
            row(3, provider="acme", unpriced=True, tool="codex"),
            row(4, kind="attempt", cost=9.0, list_cost=9.0, tool="codex"),  # attempts are not in the roll-ups
        ],
    )
    tools = {r["name"]: (r["requests"], r["cost"], r["list_cost"], r["unpriced"]) for r in
             ledger.grouped(conn, "by-tool", BASE, BASE + HOUR)}  # fmt: skip
    assert tools == {"claude-code": (1, 0.25, 0.25, 0), "codex": (2, 0.0, 1.5, 1)}
    providers = {r["name"]: r["list_cost"] - r["cost"] for r in ledger.grouped(conn, "by-provider", BASE, BASE + 1)}
    assert providers == {"openai": 0.0, "codex": 1.5, "acme": 0.0}
    (day,) = ledger.timeseries(conn, BASE, BASE + HOUR, "day")
    assert (day["cost"], day["list_cost"]) == (0.25, 1.75)
    (by_day,) = [r for r in ledger.timeseries_by(conn, "by-tool", BASE, BASE + HOUR, "day") if r["name"] == "codex"]
    assert by_day["list_cost"] == 1.5
    newest = ledger.recent(conn, 2)
    assert [(r["tool"], r["cost"], r["unpriced"]) for r in newest] == [("codex", 9.0, 0), ("codex", 0.0, 1)]
    assert "by-tool" in ledger.VIEWS and ledger.report(conn, "summary", BASE, BASE + HOUR)[0]["cost"] == 0.25


def test_each_keys_spend_per_hour_is_read_back_for_its_budgets(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / FILE_NAME)
    ledger.write(
        conn,
        [
            row(1, cost=0.25),
            row(2, cost=0.5),
            row(HOUR + 5, cost=1.0),
            row(3, caller="local", cost=7.0),  # the gateway's own machine has no budget
            row(4, caller="key_b"),  # nothing spent: nothing to restore
            row(-2 * HOUR, cost=4.0),  # before the span asked for
        ],
    )
    spend = sorted(ledger.caller_spend(conn, BASE))
    assert spend == [("key_a", BASE + HOUR, pytest.approx(0.75)), ("key_a", BASE + 2 * HOUR, 1.0)]


def test_a_journal_line_written_before_the_money_columns_is_replayed(tmp_path: Path) -> None:
    old = (BASE, "req_old", REQUEST, "local", "openai-chat", "m", "p", "", "m", 3, 4, 0, 0, False, 200, "", 1.0,
           None, 1)  # fmt: skip
    (tmp_path / "ledger-1.journal").write_bytes(b"%a\n" % (old,))
    writer = Writer(tmp_path / FILE_NAME)
    writer.start()
    try:
        replay(tmp_path, writer).close()
        rows = writer.run(lambda conn: ledger.recent(conn, 5)).result()
    finally:
        writer.close()
    assert [(r["request_id"], r["prompt"], r["cost"], r["tool"]) for r in rows] == [("req_old", 3, 0.0, "")]


def test_step_8_marks_only_the_rows_a_recent_view_shows_so_a_big_ledger_is_not_rewritten(tmp_path: Path) -> None:
    """An UPDATE of every row takes seconds and a WAL the ledger's size on a ledger of millions;
    the reports read the roll-ups, so only the newest rows (what "recent" shows) are marked."""
    conn = v7(tmp_path / FILE_NAME)
    conn.executemany(
        "INSERT INTO usage (ts, request_id, kind, caller, protocol, model, provider, account, upstream_model,"
        " prompt, completion, cached, reasoning, estimated, status, error, latency_ms, ttfb_ms, attempts)"
        " VALUES (?, ?, 'request', 'key_a', 'openai-chat', 'gpt-5', 'openai', 'k', 'gpt-5',"
        " 10, 5, 0, 0, 0, 200, '', 1.0, NULL, 1)",
        [(BASE + n, f"r{n}") for n in range(5000)],
    )
    changed = conn.total_changes
    db.migrate(conn)
    assert conn.total_changes - changed <= 1001  # the newest thousand rows and the roll-up's hour
    marked = conn.execute("SELECT request_id, unpriced FROM usage ORDER BY id DESC LIMIT 1").fetchone()
    assert marked == ("r4999", 1)
    assert conn.execute("SELECT unpriced FROM usage WHERE request_id = 'old'").fetchone() == (0,)


def test_a_starts_counts_read_only_the_span_by_row_id_a_late_row_included(tmp_path: Path) -> None:
    """The limits' counts at a start find their span by row id (there is no index on the time, and
    a scan of a long ledger held the start), a row written late for a long request among them."""
    conn = sqlite3.connect(tmp_path / FILE_NAME, isolation_level=None)
    db.migrate(conn)
    ledger.write(conn, [row(n * 60) for n in range(500)])  # a request a minute
    ledger.write(conn, [row(499 * 60 - 1800, request_id="late")])  # began half an hour before it ended
    since = BASE + 499 * 60 - 3600  # the last hour
    counts = ledger.caller_counts(conn, since, 86400)
    assert sum(n for _, _, n, _ in counts) == 61 + 1
    assert ledger.caller_counts(conn, BASE + 10**6, 60) == [] and ledger.caller_counts(conn, 0, 10**9)[0][2] == 501
    plan = " ".join(str(step[3]) for step in conn.execute("EXPLAIN QUERY PLAN " + ledger._CALLER_COUNTS, (1, 0, 1)))
    assert "INTEGER PRIMARY KEY" in plan and "SCAN usage" not in plan
