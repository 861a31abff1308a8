"""Opening the database: created private to the user, in WAL mode, migrated to the current schema.

SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file, so creating that file
0600 before SQLite touches it keeps all three private from the start (SECURITY.md S32).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from gateway.store.migrations import STEPS

FILE_NAME = "switchboard.db"


class StoreError(Exception):
    """The database cannot be used; the message says why."""


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), migrated unless read-only."""
    if not readonly and not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    uri = f"{path.as_uri()}?mode={'ro' if readonly else 'rw'}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a crash loses no committed row
            migrate(conn)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the database {path}: {exc}") from None
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(STEPS):
        raise StoreError(
            f"the database was written by a newer Switchboard (schema {version}, this one knows {len(STEPS)})"
        )
    for number, step in enumerate(STEPS[version:], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in step.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if conn.execute("PRAGMA user_version").fetchone()[0] != number:
                raise StoreError(f"schema step {number} does not set user_version to {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
