"""The admin login in the database: the password's hash with its token generation (a change
moves it on, ending every session), and the refresh tokens' hashes by family, each spent by its
use (``gateway.auth.sessions`` says what they mean). Each change is one transaction, with its
audit event where it has one."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from gateway.store import audit


@dataclass(frozen=True, slots=True)
class Spend:
    """A refresh token presented for a new one: what is known of it, and the one to store."""

    digest: bytes
    family: str
    subject: str
    generation: int
    now: float
    ts_ms: int  # for the audit event when it was spent before
    grace: float  # seconds after its spending in which it is a retry's (refused), not a thief's
    new_digest: bytes
    new_expires: float


# What ``spend`` found: "ok" (spent, the new one stored), "unknown", "revoked", "raced", "reused".
Outcome = str


def password(conn: sqlite3.Connection, name: str) -> tuple[str, int] | None:
    """The stored hash and the token generation it belongs to."""
    row = conn.execute("SELECT phc, generation FROM admin WHERE name = ?", (name,)).fetchone()
    return (str(row[0]), int(row[1])) if row else None


def generation(conn: sqlite3.Connection, subject: str) -> int | None:
    """The account's token generation (None: no such account)."""
    row = conn.execute("SELECT generation FROM admin WHERE name = ?", (subject,)).fetchone()
    return int(row[0]) if row else None


def set_password(
    conn: sqlite3.Connection, name: str, phc: str, now: float, actor: str, ts_ms: int, first: bool = False
) -> bool:
    """Set or change the password: a change moves the generation on and revokes every refresh token.
    ``first``: only when none is set. Whether it was set."""
    existed = password(conn, name) is not None
    if existed and first:
        return False
    conn.execute(
        "INSERT INTO admin (name, phc, changed) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET phc = excluded.phc, changed = excluded.changed, "
        "generation = generation + 1",
        (name, phc, now),
    )
    conn.execute("UPDATE refresh_tokens SET revoked = 1 WHERE revoked = 0")
    audit.append(conn, ts_ms, actor, "admin.password_changed" if existed else "admin.created", {"name": name})
    return True


def rehash(conn: sqlite3.Connection, name: str, phc: str) -> None:
    """The same password under a hash of today's cost."""
    conn.execute("UPDATE admin SET phc = ? WHERE name = ?", (phc, name))


def issue(conn: sqlite3.Connection, digest: bytes, family: str, subject: str, expires: float) -> None:
    conn.execute(
        "INSERT INTO refresh_tokens (digest, family, subject, expires) VALUES (?, ?, ?, ?)",
        (digest, family, subject, expires),
    )


def spend(conn: sqlite3.Connection, spent: Spend) -> Outcome:
    """Spend a refresh token and store its successor, or say why not (a spent one presented after
    the grace period revokes its whole family, audited)."""
    row = conn.execute(
        "SELECT family, spent_at, revoked, expires FROM refresh_tokens WHERE digest = ?", (spent.digest,)
    ).fetchone()
    if row is None or row[0] != spent.family:
        return "unknown"
    _, spent_at, revoked, expires = row
    if revoked or expires < spent.now or generation(conn, spent.subject) != spent.generation:
        return "revoked"
    if spent_at is not None:
        if spent.now - spent_at <= spent.grace:
            return "raced"
        conn.execute("UPDATE refresh_tokens SET revoked = 1 WHERE family = ?", (spent.family,))
        audit.append(conn, spent.ts_ms, spent.subject, "admin.refresh_reuse", {"family": spent.family})
        return "reused"
    conn.execute("UPDATE refresh_tokens SET spent_at = ? WHERE digest = ?", (spent.now, spent.digest))
    issue(conn, spent.new_digest, spent.family, spent.subject, spent.new_expires)
    return "ok"
