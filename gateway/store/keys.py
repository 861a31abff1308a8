"""Client keys on disk: their keyed hashes and metadata, never the keys themselves."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict


class ClientKey(TypedDict):
    """A client key as listings show it: never the key, nor its digest."""

    id: str
    label: str
    prefix: str
    last4: str
    tier: str
    limits: dict[str, float]  # whole counts, and dollars (dollars_per_day, dollars_per_month)
    enforce_model: NotRequired[str | None]  # the model serving its every chat request, whatever it names
    created_at: float  # seconds since the epoch, as the other times here
    last_used: float | None
    revoked_at: float | None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    label: str
    tier: str
    limits: tuple[tuple[str, float], ...]  # per-key overrides of the tier's limits
    digest: bytes
    last4: str
    created_at: float
    last_used: float | None = None
    revoked_at: float | None = None
    enforce_model: str | None = None

    def public(self) -> ClientKey:
        """What a listing shows: never the digest."""
        return {
            "id": self.id,
            "label": self.label,
            "prefix": f"sk-sb-{self.id}",
            "last4": self.last4,
            "tier": self.tier,
            "limits": dict(self.limits),
            "enforce_model": self.enforce_model,
            "created_at": self.created_at,
            "last_used": self.last_used,
            "revoked_at": self.revoked_at,
        }


def inserted(record: KeyRecord) -> tuple[Any, ...]:
    """A new key's values as either back end inserts them: id, label, tier, limits, digest,
    last4, created_at, enforce_model."""
    limits = json.dumps(dict(record.limits))
    return (
        record.id,
        record.label,
        record.tier,
        limits,
        record.digest,
        record.last4,
        record.created_at,
        record.enforce_model,
    )


def insert(conn: sqlite3.Connection, record: KeyRecord) -> None:
    conn.execute(
        "INSERT INTO client_keys (id, label, tier, limits, digest, last4, created_at, enforce_model)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        inserted(record),
    )


def revoke(conn: sqlite3.Connection, key_id: str, when: float) -> bool:
    """True when the key existed and was live."""
    cursor = conn.execute("UPDATE client_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (when, key_id))
    return cursor.rowcount == 1


def set_limits(conn: sqlite3.Connection, key_id: str, tier: str, limits: dict[str, float]) -> bool:
    cursor = conn.execute(
        "UPDATE client_keys SET tier = ?, limits = ? WHERE id = ? AND revoked_at IS NULL",
        (tier, json.dumps(limits), key_id),
    )
    return cursor.rowcount == 1


def touch_rows(conn: sqlite3.Connection, used: list[tuple[float, str]]) -> None:
    """Record when keys were last used: (when, id) pairs, the latest per key wins."""
    conn.executemany(
        "UPDATE client_keys SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used < ?)",
        [(when, key_id, when) for when, key_id in used],
    )


def from_row(row: Sequence[Any]) -> KeyRecord:
    """A record from a row of id, label, tier, limits, digest, last4, created_at, last_used,
    revoked_at, enforce_model (either back end's)."""
    return KeyRecord(
        id=row[0],
        label=row[1],
        tier=row[2],
        limits=tuple(sorted(json.loads(row[3]).items())),
        digest=bytes(row[4]),
        last4=row[5],
        created_at=row[6],
        last_used=row[7],
        revoked_at=row[8],
        enforce_model=row[9],
    )


def load(conn: sqlite3.Connection) -> list[KeyRecord]:
    rows = conn.execute(
        "SELECT id, label, tier, limits, digest, last4, created_at, last_used, revoked_at, enforce_model"
        " FROM client_keys ORDER BY created_at"
    )
    return [from_row(row) for row in rows]


def get(conn: sqlite3.Connection, key_id: str) -> KeyRecord | None:
    row = conn.execute(
        "SELECT id, label, tier, limits, digest, last4, created_at, last_used, revoked_at, enforce_model"
        " FROM client_keys WHERE id = ?",
        (key_id,),
    ).fetchone()
    return from_row(row) if row is not None else None
