"""Each provider's last model list in the database: the newest per provider replaces the one
before. With them, the protocols a provider's server was found not to speak (routing/spoken.py).
Lists and protocols older than their time to live are deleted as they are read."""

from __future__ import annotations

import sqlite3

# provider, source (the address it was asked at), taken_at (unix seconds), entries (JSON)
ModelListRow = tuple[str, str, float, str]

_SAVE = "INSERT OR REPLACE INTO model_lists (provider, source, taken_at, entries) VALUES (?, ?, ?, ?)"


def save(conn: sqlite3.Connection, rows: list[ModelListRow]) -> None:
    """A writer sink."""
    conn.executemany(_SAVE, rows)


def load(conn: sqlite3.Connection, taken_since: float) -> list[ModelListRow]:
    """The lists taken at or after ``taken_since``; older ones are dropped for good."""
    conn.execute("DELETE FROM model_lists WHERE taken_at < ?", (taken_since,))
    return list(conn.execute("SELECT provider, source, taken_at, entries FROM model_lists ORDER BY provider"))


# provider, protocol, source (the address it was learned at), learned_at (unix seconds)
UnspokenRow = tuple[str, str, str, float]

_SAVE_UNSPOKEN = "INSERT OR REPLACE INTO unspoken (provider, protocol, source, learned_at) VALUES (?, ?, ?, ?)"


def save_unspoken(conn: sqlite3.Connection, rows: list[UnspokenRow]) -> None:
    """A writer sink."""
    conn.executemany(_SAVE_UNSPOKEN, rows)


def load_unspoken(conn: sqlite3.Connection, learned_since: float) -> list[UnspokenRow]:
    """What was learned at or after ``learned_since``; older knowledge is dropped for good."""
    conn.execute("DELETE FROM unspoken WHERE learned_at < ?", (learned_since,))
    return list(conn.execute("SELECT provider, protocol, source, learned_at FROM unspoken ORDER BY provider"))
