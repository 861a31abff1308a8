"""The audit chain (SECURITY.md S33–S35): every edit, deletion, reordering, insertion and
truncation is caught with the first bad sequence number, and so is an older copy put back.

What the chain does not prove, stated here so nobody reads more into a green verify: that
events were recorded honestly or completely; the times (the gateway's own clock); anything
against someone who holds both the database and the anchor key, who can rewrite it all. It
detects tampering; it cannot prevent it.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.clock import FakeClock

from gateway.store import audit
from gateway.store.database import Database
from gateway.store.db import FILE_NAME

KEY = b"k" * 32


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path, KEY, FakeClock())
    database.open()
    for i in range(6):
        database.audit("admin", "key.created", {"key": f"id{i}", "n": i}).result()
    yield database
    database.close()


def verdict(database: Database) -> audit.Verdict:
    conn = sqlite3.connect(database.path)
    try:
        return audit.verify(conn, database.anchor)
    finally:
        conn.close()


def tamper(database: Database, *statements: str) -> None:
    database.writer.flush()
    conn = sqlite3.connect(database.path, isolation_level=None)
    for statement in statements:
        conn.execute(statement)
    conn.close()


def test_a_clean_chain_verifies(db: Database) -> None:
    assert verdict(db) == audit.Verdict(True, 6)


@pytest.mark.parametrize(
    ("statements", "first_bad"),
    [
        (['UPDATE audit SET payload = \'{"key":"evil","n":2}\' WHERE seq = 3'], 3),
        (["UPDATE audit SET actor = 'someone' WHERE seq = 2"], 2),
        (["UPDATE audit SET ts = ts + 1 WHERE seq = 4"], 4),
        (["DELETE FROM audit WHERE seq = 3"], 3),
        (  # swap rows 2 and 3 (their contents trade places; the sequence numbers stay)
            [
                "UPDATE audit SET seq = 100 WHERE seq = 2",
                "UPDATE audit SET seq = 2 WHERE seq = 3",
                "UPDATE audit SET seq = 3 WHERE seq = 100",
            ],
            2,
        ),
        (  # a row slipped in between, renumbering those after it
            [
                "UPDATE audit SET seq = seq + 100 WHERE seq >= 4",
                "UPDATE audit SET seq = seq - 99 WHERE seq >= 100",
                "INSERT INTO audit SELECT 4, ts, actor, 'key.revoked', payload, prev, hash FROM audit WHERE seq = 3",
            ],
            4,
        ),
        (["DELETE FROM audit WHERE seq >= 5"], 5),  # cut off the end: only the anchor can tell
    ],
    ids=["edit-payload", "edit-actor", "edit-time", "delete", "swap", "insert", "truncate"],
)
def test_each_kind_of_tampering_is_caught_at_its_row(db: Database, statements: list[str], first_bad: int) -> None:
    tamper(db, *statements)
    found = verdict(db)
    assert not found.ok and found.first_bad == first_bad, found


def test_an_older_copy_of_the_database_put_back_is_caught(db: Database, tmp_path: Path) -> None:
    db.writer.flush()
    saved = tmp_path / "old.db"
    conn = sqlite3.connect(db.path)
    conn.execute("VACUUM INTO ?", (str(saved),))
    conn.close()
    db.audit("admin", "key.revoked", {"key": "id1"}).result()
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db.path}{suffix}").unlink(missing_ok=True)
    shutil.copy(saved, db.path)
    found = verdict(db)
    assert not found.ok and found.first_bad == 7 and "removed from the end" in found.reason
    reopened = Database(tmp_path, KEY, FakeClock())  # the gateway notices at start, and keeps the anchor
    reopened.open()
    assert reopened.anchor_problem is not None
    reopened.audit("admin", "key.created", {"key": "new"}).result()
    assert not verdict(reopened).ok
    reopened.close()


def test_an_edited_or_foreign_anchor_is_refused(db: Database) -> None:
    db.writer.flush()
    text = db.anchor.path.read_text()
    db.anchor.path.write_text(text.replace('"seq": 6', '"seq": 5'))
    assert not verdict(db).ok and "seal" in verdict(db).reason
    other = audit.Anchor(db.anchor.path, b"x" * 32)
    other.seal(6, "0" * 64)
    assert not verdict(db).ok


def test_the_encoding_is_stable() -> None:
    """Golden values: a change to the canonical encoding would orphan every existing chain."""
    assert audit.canonical({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'.encode()
    assert audit.row_hash(1, 1700000000000, "admin", "key.created", '{"key":"abc"}', audit.GENESIS) == (
        # sha256 of {"action":"key.created","actor":"admin","payload":"{\"key\":\"abc\"}",
        #   "prev":"000…","seq":1,"ts":1700000000000}
        "47489d964f785dafc6560464e028c8fef8d1c1c1db7ae2b2610b5e61ddfc0c33"
    )
    with pytest.raises(ValueError, match="no floats"):
        audit.canonical({"cost": 0.5})


async def test_a_hundred_concurrent_events_make_one_linear_chain(db: Database) -> None:
    futures = [db.audit("admin", "key.created", {"n": i}) for i in range(100)]
    seqs = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
    assert sorted(seqs) == list(range(7, 107))
    assert verdict(db) == audit.Verdict(True, 106)


def test_a_failed_audit_write_fails_the_action(db: Database) -> None:
    """Fail closed: an action and its audit event commit together or not at all."""

    def action(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO admin (name, phc, changed) VALUES ('admin', 'phc', 0)")
        audit.append(conn, 1, "admin", "admin.created", {"bad": 0.5})

    with pytest.raises(ValueError):
        db.writer.run(action).result()
    assert db.writer.run(lambda c: c.execute("SELECT count(*) FROM admin").fetchone()[0]).result() == 0
    assert verdict(db).ok


def test_the_anchor_lives_outside_the_database(db: Database, tmp_path: Path) -> None:
    assert db.anchor.path.parent == tmp_path and db.anchor.path.name != FILE_NAME
    assert oct(db.anchor.path.stat().st_mode & 0o777) == "0o600"
