"""The database: private files, numbered migrations, one writer thread in batches with each
operation rolled back alone, a reader beside it, and no SQL built from pieces."""

from __future__ import annotations

import ast
import asyncio
import os
import sqlite3
import stat
from pathlib import Path

import pytest

import gateway
from gateway.store.db import FILE_NAME, StoreError, connect
from gateway.store.migrations import STEPS
from gateway.store.reader import Reader
from gateway.store.writer import Writer


def test_database_and_its_wal_are_private_from_the_start(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        writer = Writer(tmp_path / FILE_NAME)
        writer.start()
        writer.run(lambda conn: conn.execute("INSERT INTO admin (name, phc, changed) VALUES ('x', 'y', 1)")).result()
        names = {p.name for p in tmp_path.iterdir()}
        assert {FILE_NAME, f"{FILE_NAME}-wal", f"{FILE_NAME}-shm"} <= names
        for name in names:
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
        writer.close()
    finally:
        os.umask(old)


def test_migrations_run_once_and_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    connect(path).close()
    conn = connect(path)  # a second open runs nothing again
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(STEPS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute(f"PRAGMA user_version = {len(STEPS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer Switchboard"):
        connect(path)


def test_rows_are_written_in_batches_and_a_failing_operation_is_rolled_back_alone(tmp_path: Path) -> None:
    writer = Writer(tmp_path / FILE_NAME)
    writer.start()
    batches: list[int] = []

    def sink(conn: sqlite3.Connection, rows: list[tuple[str, str]]) -> None:
        batches.append(len(rows))
        conn.executemany("INSERT INTO admin (name, phc, changed) VALUES (?, ?, 0)", rows)

    def failing(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO admin (name, phc, changed) VALUES ('doomed', 'x', 0)")
        raise LookupError("refused")

    blocker = writer.run(lambda conn: __import__("time").sleep(0.2))  # let rows pile up behind it
    for i in range(500):
        writer.append(sink, (f"n{i}", "p"))
    doomed = writer.run(failing)
    writer.flush()
    assert blocker.result() is None
    with pytest.raises(LookupError):
        doomed.result()
    count = writer.run(lambda conn: conn.execute("SELECT count(*) FROM admin").fetchone()[0]).result()
    assert count == 500 and sum(batches) == 500 and len(batches) <= 3
    assert (
        writer.run(lambda conn: conn.execute("SELECT 1 FROM admin WHERE name = 'doomed'").fetchone()).result() is None
    )
    writer.close()


def test_close_writes_everything_still_queued(tmp_path: Path) -> None:
    writer = Writer(tmp_path / FILE_NAME)
    writer.start()

    def sink(conn: sqlite3.Connection, rows: list[tuple[str]]) -> None:
        conn.executemany("INSERT INTO admin (name, phc, changed) VALUES (?, 'p', 0)", rows)

    for i in range(1000):
        writer.append(sink, (f"n{i}",))
    writer.close()
    conn = connect(tmp_path / FILE_NAME, readonly=True)
    assert conn.execute("SELECT count(*) FROM admin").fetchone()[0] == 1000


async def test_reads_run_off_the_event_loop_beside_the_writer(tmp_path: Path) -> None:
    writer = Writer(tmp_path / FILE_NAME)
    writer.start()
    await writer.call(lambda conn: conn.execute("INSERT INTO admin (name, phc, changed) VALUES ('a', 'b', 1)"))
    reader = Reader(tmp_path / FILE_NAME)
    loop_thread = __import__("threading").get_ident()
    seen = await reader(
        lambda conn: (conn.execute("SELECT name FROM admin").fetchall(), __import__("threading").get_ident())
    )
    assert seen[0] == [("a",)] and seen[1] != loop_thread
    with pytest.raises(sqlite3.OperationalError):  # read-only
        await reader(lambda conn: conn.execute("DELETE FROM admin"))
    reader.close()
    writer.close()
    await asyncio.sleep(0)


def _sql_calls() -> list[tuple[Path, int, ast.expr]]:
    found = []
    for path in Path(gateway.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("execute", "executemany", "executescript")
                and node.args
            ):
                found.append((path, node.lineno, node.args[0]))
    return found


def _joined(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod))


def test_no_sql_is_built_from_pieces() -> None:
    """SECURITY.md S14: SQL is a literal (or a module constant); values go in as parameters."""
    calls = _sql_calls()
    assert len(calls) > 20
    for path, line, sql in calls:
        built = _joined(sql) or (
            isinstance(sql, ast.Call) and isinstance(sql.func, ast.Attribute) and sql.func.attr == "format"
        )
        assert not built, f"{path}:{line} builds SQL from pieces"
    constants = [
        (path, node.lineno)
        for path in Path(gateway.__file__).parent.joinpath("store").rglob("*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body  # module-level: the SQL constants
        if isinstance(node, ast.Assign) and _joined(node.value)
    ]
    assert not constants, f"SQL constants are plain literals: {constants}"
