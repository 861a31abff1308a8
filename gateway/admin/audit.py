"""The audit log as an administrator reads it: pages of events, the whole chain with its hashes
(to keep, or to check elsewhere with ``audit verify --file``), and the verdict on the chain."""

from __future__ import annotations

from typing import Any

from gateway.admin.state import State
from gateway.store import audit
from gateway.store.audit import AuditEntry, VerdictDoc

MOST = 1000  # events in one page


class AuditLog:
    def __init__(self, state: State) -> None:
        self._state = state

    async def events(self, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        count = min(MOST, max(1, limit))
        found = await self._state.db.read(lambda conn: audit.events(conn, after, count))
        return [event.public() for event in found]

    async def export(self) -> list[dict[str, Any]]:
        """Every event in the hashed form (``ts`` in milliseconds, the payload as hashed text)."""
        return await self._state.db.read(lambda conn: list(audit.export(conn)))

    async def verify(self) -> VerdictDoc:
        state = self._state
        verdict = await state.db.read(lambda conn: audit.verify(conn, state.db.anchor))
        return verdict.public()
