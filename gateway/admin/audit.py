"""The audit log as an administrator reads it: pages of events, the whole chain with its hashes
as JSON lines (to keep, or to check elsewhere), the verdict on the chain, and the verdict on such
an exported copy."""

from __future__ import annotations

from gateway.formats.common import jsonbody
from gateway.store import audit
from gateway.store.audit import AuditEntry, VerdictDoc
from gateway.store.seam import AuditReads

MOST = 1000  # events in one page


class AuditLog:
    """``log``: the audit log's reads, on whichever back end keeps it (``gateway.store.seam``)."""

    def __init__(self, log: AuditReads) -> None:
        self._log = log

    @property
    def sealed(self) -> bool:
        """Whether ``verify`` checks the chain's end against its seal too."""
        return self._log.sealed

    async def events(self, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        found = await self._log.events(after, min(MOST, max(1, limit)))
        return [event.public() for event in found]

    async def export(self) -> bytes:
        """Every event in the hashed form (``ts`` in milliseconds, the payload as hashed text),
        one JSON object a line."""
        rows = await self._log.export()
        return b"".join(jsonbody.encode(row) + b"\n" for row in rows)

    async def verify(self) -> VerdictDoc:
        return (await self._log.verify()).public()


def verify_export(lines: str) -> VerdictDoc:
    """The chain check over an export (as ``export`` writes it); its end cannot be checked against
    the seal away from the gateway's machine. ``ValueError`` when a line is not an exported event."""
    rows = [audit.exported_row(jsonbody.loads(line)) for line in lines.splitlines() if line.strip()]
    return audit.verify_rows(rows, None).public()
