"""The storage seam: what the gateway asks of its store, one Protocol a concern, so that one
process on SQLite (the desktop, a single server) and several gateways on one PostgreSQL (a team)
are the same to their callers.

A change that is audited commits with its audit event in one transaction, on either back end:
the event travels with the change (``Event``) rather than being appended after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from gateway.store.audit import AuditEvent, Verdict
from gateway.store.keys import KeyRecord


@dataclass(frozen=True, slots=True)
class Event:
    """An audit event to append: ``ts`` in milliseconds since the epoch, a payload without floats."""

    ts: int
    actor: str
    action: str
    payload: dict[str, Any]


class KeyStore(Protocol):
    """Client keys: their keyed hashes and metadata, never the keys."""

    async def load(self) -> list[KeyRecord]:
        """Every key, live or revoked, oldest first."""
        ...

    async def get(self, key_id: str) -> KeyRecord | None:
        """One key as stored now (another gateway may have made or revoked it a moment ago)."""
        ...

    async def insert(self, record: KeyRecord, event: Event) -> None: ...

    async def revoke(self, key_id: str, when: float, event: Event) -> bool:
        """True when the key existed and was live (and ``event`` was appended); False changes nothing."""
        ...

    async def set_limits(self, key_id: str, tier: str, limits: dict[str, float], event: Event) -> bool:
        """True when the key is live (and ``event`` was appended); False changes nothing."""
        ...

    async def touch(self, used: list[tuple[float, str]]) -> None:
        """When keys were last used: (when, id) pairs, the latest per key wins; not audited."""
        ...


class AuditStore(Protocol):
    """The audit log: one hash chain, whichever process appends to it."""

    async def append(self, event: Event) -> int:
        """The event after the chain's current head, in its own transaction; its sequence number."""
        ...

    async def events(self, after: int = 0, limit: int = 100) -> list[AuditEvent]: ...

    async def export(self) -> list[dict[str, Any]]:
        """Every row as stored, hashes included (``audit.exported_row`` reads one back)."""
        ...

    async def verify(self) -> Verdict:
        """The chain walked from its start (and its end against a seal, where the back end keeps one)."""
        ...


class Store(Protocol):
    """A back end: its concerns, and its end."""

    @property
    def keys(self) -> KeyStore: ...

    @property
    def audit(self) -> AuditStore: ...

    async def close(self) -> None: ...
