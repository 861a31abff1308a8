"""The audit log: append-only rows, each chained to the one before by SHA-256, and an anchor.

Each row's hash covers its sequence number, time (integer milliseconds), actor, action, payload
and the previous hash, in a canonical encoding: sorted-key UTF-8 JSON without spaces or floats.
Editing, deleting, reordering or inserting a row breaks the chain at that row.

The chain alone cannot see its own end cut off, nor a whole older copy of the database put back.
So after every commit the head (sequence number, hash) is sealed with an HMAC key from the
keychain into a file outside the database; verification compares the chain's end with it.

What this does not prove: that events were recorded honestly or completely; the times (they are
the gateway's own); anything against someone holding both the database and the anchor key, who
can rewrite it all. It detects tampering; it cannot prevent it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from gateway.paths import write_private

GENESIS = "0" * 64
ANCHOR_FILE = "audit.anchor"


def canonical(value: Any) -> bytes:
    _no_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _no_floats(value: Any) -> None:
    if isinstance(value, float):
        raise ValueError("audit payloads hold no floats (their encoding is not canonical)")
    if isinstance(value, dict):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _no_floats(item)


def row_hash(seq: int, ts: int, actor: str, action: str, payload: str, prev: str) -> str:
    encoded = canonical({"seq": seq, "ts": ts, "actor": actor, "action": action, "payload": payload, "prev": prev})
    return hashlib.sha256(encoded).hexdigest()


class AuditEntry(TypedDict):
    """An event as reports show it. (An export keeps the hashed form: ``ts``, in milliseconds.)"""

    seq: int
    ts_ms: int  # milliseconds since the epoch
    actor: str
    action: str
    payload: dict[str, Any]


class VerdictDoc(TypedDict):
    ok: bool
    checked: int
    first_bad: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    ts: int  # milliseconds since the epoch
    actor: str
    action: str
    payload: dict[str, Any]

    def public(self) -> AuditEntry:
        return {
            "seq": self.seq,
            "ts_ms": self.ts,
            "actor": self.actor,
            "action": self.action,
            "payload": self.payload,
        }


def append(conn: sqlite3.Connection, ts: int, actor: str, action: str, payload: dict[str, Any]) -> int:
    """Add one event after the current head (callers are on the one writer thread); its seq."""
    head = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    text = canonical(payload).decode("utf-8")
    conn.execute(
        "INSERT INTO audit (seq, ts, actor, action, payload, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, ts, actor, action, text, prev, row_hash(seq, ts, actor, action, text, prev)),
    )
    return int(seq)


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def events(conn: sqlite3.Connection, after: int = 0, limit: int = 100) -> list[AuditEvent]:
    rows = conn.execute(
        "SELECT seq, ts, actor, action, payload FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
    ).fetchall()
    return [AuditEvent(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]


class Anchor:
    """The sealed head, in a 0600 file beside (not inside) the database."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key
        self.sealed: tuple[int, str] | None = None

    def _mac(self, seq: int, hash_: str) -> str:
        return hmac.new(self._key, f"{seq}:{hash_}".encode(), hashlib.sha256).hexdigest()

    def seal(self, seq: int, hash_: str) -> None:
        if self.sealed == (seq, hash_):
            return
        write_private(self.path, json.dumps({"seq": seq, "hash": hash_, "mac": self._mac(seq, hash_)}))
        self.sealed = (seq, hash_)

    def read(self) -> tuple[int, str] | str:
        """The sealed head, or why there is none to trust."""
        try:
            data = json.loads(self.path.read_text(encoding="ascii"))
            seq, hash_, mac = int(data["seq"]), str(data["hash"]), str(data["mac"])
        except FileNotFoundError:
            return "the anchor file is missing"
        except (OSError, ValueError, KeyError, TypeError):
            return "the anchor file is unreadable"
        if not hmac.compare_digest(mac, self._mac(seq, hash_)):
            return "the anchor's seal does not match (edited, or made with another key)"
        return seq, hash_


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    checked: int  # rows walked
    first_bad: int | None = None  # the first sequence number that fails
    reason: str = ""

    def public(self) -> VerdictDoc:
        return {"ok": self.ok, "checked": self.checked, "first_bad": self.first_bad, "reason": self.reason}


Row = tuple[int, int, str, str, str, str, str]  # seq, ts, actor, action, payload text, prev, hash
ROW_FIELDS = ("seq", "ts", "actor", "action", "payload", "prev", "hash")
_ALL_ROWS = "SELECT seq, ts, actor, action, payload, prev, hash FROM audit ORDER BY seq"  # ROW_FIELDS, in order


def export(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """Every row as stored, hashes included, so a copy can be checked away from this machine
    (``verify_rows``); the payload stays the canonical text its hash was taken over."""
    for row in conn.execute(_ALL_ROWS):
        yield dict(zip(ROW_FIELDS, row, strict=True))


def exported_row(item: Any) -> Row:
    """One exported row read back; ``ValueError`` when it is not one."""
    if not isinstance(item, dict) or set(item) != set(ROW_FIELDS):
        raise ValueError(f"an exported audit row has exactly the fields {', '.join(ROW_FIELDS)}")
    seq, ts, actor, action, payload, prev, hash_ = (item[f] for f in ROW_FIELDS)
    if not (
        type(seq) is int and type(ts) is int and all(isinstance(v, str) for v in (actor, action, payload, prev, hash_))
    ):
        raise ValueError(f"audit row {seq!r}: seq and ts are integers, the other fields strings")
    return seq, ts, actor, action, payload, prev, hash_


def verify(conn: sqlite3.Connection, anchor: Anchor | None) -> Verdict:
    """Walk the chain from the start; then compare its end with the anchor (when one is given)."""
    cursor = conn.execute(_ALL_ROWS)
    return verify_rows(cursor, anchor.read() if anchor is not None else None)


def verify_rows(rows: Iterable[Row], sealed: tuple[int, str] | str | None) -> Verdict:
    """The chain check over rows in order (the database's or an export's), then its end against
    the sealed head, or the reason there is none to trust (``None``: no anchor to compare)."""
    sealed_seq = sealed[0] if isinstance(sealed, tuple) else 0
    sealed_row_hash: str | None = None
    expected_seq, prev, checked = 1, GENESIS, 0
    for seq, ts, actor, action, payload, stored_prev, stored_hash in rows:
        checked += 1
        if seq != expected_seq:
            return Verdict(False, checked, expected_seq, f"row {expected_seq} is missing")
        if stored_prev != prev:
            return Verdict(False, checked, seq, f"row {seq} does not follow row {seq - 1}")
        if row_hash(seq, ts, actor, action, payload, stored_prev) != stored_hash:
            return Verdict(False, checked, seq, f"row {seq} was changed after it was written")
        prev, expected_seq = stored_hash, seq + 1
        if seq == sealed_seq:
            sealed_row_hash = stored_hash
    last = expected_seq - 1
    if sealed is None:
        return Verdict(True, checked)
    if isinstance(sealed, str):
        return Verdict(last == 0 and "missing" in sealed, checked, None if last == 0 else 1, sealed)
    seq, hash_ = sealed
    if seq > last:
        return Verdict(False, checked, last + 1, f"rows {last + 1}–{seq} were removed from the end")
    if seq and sealed_row_hash != hash_:
        return Verdict(False, checked, seq, f"row {seq} differs from the sealed head (an older or altered copy)")
    return Verdict(True, checked)
