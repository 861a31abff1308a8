"""The audit log as an administrator reads it: pages of events, the whole chain with its hashes
as JSON lines (to keep, or to check elsewhere), the verdict on the chain, and the verdict on such
an exported copy."""

from __future__ import annotations

from gateway.formats.common import jsonbody
from gateway.store import audit
from gateway.store.audit import Anchor, AuditEntry, VerdictDoc
from gateway.store.reader import Reader

MOST = 1000  # events in one page


class AuditLog:
    """``read``: the database's reads; ``anchor``: where its end is sealed (None: the chain is
    checked without it)."""

    def __init__(self, read: Reader, anchor: Anchor | None) -> None:
        self._read = read
        self._anchor = anchor

    async def events(self, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        count = min(MOST, max(1, limit))
        found = await self._read(lambda conn: audit.events(conn, after, count))
        return [event.public() for event in found]

    async def export(self) -> bytes:
        """Every event in the hashed form (``ts`` in milliseconds, the payload as hashed text),
        one JSON object a line."""
        rows = await self._read(lambda conn: list(audit.export(conn)))
        return b"".join(jsonbody.encode(row) + b"\n" for row in rows)

    async def verify(self) -> VerdictDoc:
        anchor = self._anchor
        verdict = await self._read(lambda conn: audit.verify(conn, anchor))
        return verdict.public()


def verify_export(lines: str) -> VerdictDoc:
    """The chain check over an export (as ``export`` writes it); its end cannot be checked against
    the seal away from the gateway's machine. ``ValueError`` when a line is not an exported event."""
    rows = [audit.exported_row(jsonbody.loads(line)) for line in lines.splitlines() if line.strip()]
    return audit.verify_rows(rows, None).public()
