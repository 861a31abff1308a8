"""Subscription accounts and quota windows in the database. An account row holds what may be
shown (label, e-mail, plan, state); its tokens are in the secret store, under ``secret_name``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from gateway.store import audit

KINDS = ("codex", "copilot")
STATES = ("ok", "needs_sign_in", "no_access")


def secret_name(account_id: str) -> str:
    return f"account:{account_id}"


class AccountPublic(TypedDict):
    id: str
    kind: str
    label: str
    subject: str
    email: str
    plan: str
    state: str
    origin: str
    sync_path: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: str
    kind: str  # "codex" or "copilot"
    label: str  # names it in routes, the ledger and status
    subject: str  # the provider's id of the account (ChatGPT account id, GitHub login)
    email: str
    plan: str
    state: str  # one of STATES
    origin: str  # how it came: "login", "import:codex-cli", "import:editor", "environment"
    sync_path: str  # a Codex CLI auth.json kept in step with rotated tokens ("" = never written)
    created_at: float
    updated_at: float

    def public(self) -> AccountPublic:
        return AccountPublic(
            id=self.id,
            kind=self.kind,
            label=self.label,
            subject=self.subject,
            email=self.email,
            plan=self.plan,
            state=self.state,
            origin=self.origin,
            sync_path=self.sync_path,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


_SAVE = (
    "INSERT INTO accounts (id, kind, label, subject, email, plan, state, origin, sync_path, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET label = excluded.label, email = excluded.email, plan = excluded.plan, "
    "state = excluded.state, origin = excluded.origin, sync_path = excluded.sync_path, updated_at = excluded.updated_at"
)
_FIND = (
    "SELECT id, kind, label, subject, email, plan, state, origin, sync_path, created_at, "
    "updated_at FROM accounts WHERE id = ? OR label = ?"
)
_LOAD = (
    "SELECT id, kind, label, subject, email, plan, state, origin, sync_path, created_at, "
    "updated_at FROM accounts ORDER BY created_at, id"
)


def save(conn: sqlite3.Connection, row: AccountRow) -> None:
    """Insert, or update the account with this id (signing in again to the same account)."""
    conn.execute(
        _SAVE,
        (
            row.id,
            row.kind,
            row.label,
            row.subject,
            row.email,
            row.plan,
            row.state,
            row.origin,
            row.sync_path,
            row.created_at,
            row.updated_at,
        ),
    )


def set_state(conn: sqlite3.Connection, account_id: str, state: str, now: float, plan: str | None = None) -> None:
    conn.execute(
        "UPDATE accounts SET state = ?, plan = COALESCE(?, plan), updated_at = ? WHERE id = ?",
        (state, plan, now, account_id),
    )


def delete(conn: sqlite3.Connection, account_id: str) -> AccountRow | None:
    row = find(conn, account_id)
    if row is not None:
        conn.execute("DELETE FROM accounts WHERE id = ?", (row.id,))  # it may have been named by its label
        conn.execute("DELETE FROM quota WHERE label = ?", (row.label,))
    return row


def find(conn: sqlite3.Connection, id_or_label: str) -> AccountRow | None:
    found = conn.execute(_FIND, (id_or_label, id_or_label)).fetchone()
    return AccountRow(*found) if found else None


def load(conn: sqlite3.Connection) -> list[AccountRow]:
    return [AccountRow(*r) for r in conn.execute(_LOAD)]


# --- quota windows --------------------------------------------------------------------------

QuotaRow = tuple[str, str, str, float, float | None, int | None, float | None, float | None, int, float, float, float]
_SAVE_QUOTA = (
    "INSERT OR REPLACE INTO quota (label, window, provider, used_percent, resets_at, window_seconds, entitlement, "
    "remaining, unlimited, taken_at, first_percent, first_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_LOAD_QUOTA = (
    "SELECT label, window, provider, used_percent, resets_at, window_seconds, entitlement, remaining, unlimited, "
    "taken_at, first_percent, first_at FROM quota ORDER BY label, window"
)


def save_quota(conn: sqlite3.Connection, rows: list[QuotaRow]) -> None:
    """A writer sink: the newest of each (label, window) wins."""
    conn.executemany(_SAVE_QUOTA, rows)


def load_quota(conn: sqlite3.Connection) -> list[QuotaRow]:
    return list(conn.execute(_LOAD_QUOTA))


# --- changes, each with its audit event -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connecting:
    """An account being connected (signed in, or imported): ``name`` is what its label is made
    from (``kind:name``, numbered when another account has it)."""

    id: str
    kind: str
    name: str
    subject: str
    email: str
    plan: str
    origin: str
    sync_path: str
    now: float
    actor: str
    action: str  # "account.connected" or "account.imported"

    def row(self, label: str, before: AccountRow | None) -> AccountRow:
        created = before.created_at if before else self.now
        return AccountRow(
            self.id,
            self.kind,
            label,
            self.subject,
            self.email,
            self.plan,
            "ok",
            self.origin,
            self.sync_path,
            created,
            self.now,
        )

    def event(self, label: str, again: bool) -> tuple[int, str, str, dict[str, object]]:
        """The audit event's (ts, actor, action, payload)."""
        payload = {"id": self.id, "kind": self.kind, "label": label, "origin": self.origin, "plan": self.plan}
        return int(self.now * 1000), self.actor, self.action, {**payload, "again": again}


def unique_label(taken: Callable[[str], AccountRow | None], wanted: str, account_id: str) -> str:
    """``wanted``, or ``wanted#2``, ``#3``… the first no other account has (``taken`` looks one up)."""
    label, n = wanted, 1
    while (found := taken(label)) is not None and found.id != account_id:
        n += 1
        label = f"{wanted}#{n}"
    return label


def connect(conn: sqlite3.Connection, new: Connecting) -> AccountRow:
    """Insert the account, or update it when connected again (its label and creation kept)."""
    before = find(conn, new.id)
    label = unique_label(lambda name: find(conn, name), f"{new.kind}:{new.name}", new.id)
    row = new.row(label, before)
    save(conn, row)
    audit.append(conn, *new.event(label, before is not None))
    return row


def remove(conn: sqlite3.Connection, id_or_label: str, actor: str, ts_ms: int) -> AccountRow | None:
    row = delete(conn, id_or_label)
    if row is not None:
        audit.append(conn, ts_ms, actor, "account.removed", {"id": row.id, "kind": row.kind, "label": row.label})
    return row
