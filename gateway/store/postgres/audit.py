"""The audit chain in PostgreSQL: one chain, whichever gateway appends.

An append takes a transaction-scoped advisory lock before it reads the head, so appends from
every gateway are serialised by the database, and the head it chains to is the one committed
last (under READ COMMITTED each statement sees what was committed before it began). The
``UNIQUE`` on ``prev`` is the second guard: two rows can never follow the same one.

The hashing and the walk are the SQLite chain's own (``gateway.store.audit``). There is no anchor
file here: the gateways share the database, not a folder; the chain is checked from its start.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from gateway.store import audit
from gateway.store.audit import GENESIS, ROW_FIELDS, AuditEvent, Row, Verdict
from gateway.store.postgres.schema import AUDIT_LOCK
from gateway.store.seam import Event

_ALL_ROWS = "SELECT seq, ts, actor, action, payload, prev, hash FROM audit ORDER BY seq"  # ROW_FIELDS, in order


async def append_in(conn: AsyncConnection, event: Event) -> int:
    """Append ``event`` within the caller's transaction (so it commits with the change it records)."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
    cursor = await conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    head = await cursor.fetchone()
    seq, prev = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS)
    text = audit.canonical(event.payload).decode("utf-8")
    hash_ = audit.row_hash(seq, event.ts, event.actor, event.action, text, prev)
    await conn.execute(
        "INSERT INTO audit (seq, ts, actor, action, payload, prev, hash) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (seq, event.ts, event.actor, event.action, text, prev, hash_),
    )
    return seq


class PostgresAudit:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    @property
    def sealed(self) -> bool:
        return False  # the gateways share the database, not a folder to keep a seal in

    async def append(self, event: Event) -> int:
        async with self._pool.connection() as conn, conn.transaction():
            return await append_in(conn, event)

    async def append_all(self, events: list[Event]) -> None:
        """``events`` one after the other in the chain, in one transaction (a start's, together)."""
        async with self._pool.connection() as conn, conn.transaction():
            for event in events:
                await append_in(conn, event)

    async def last_of(self, gateway: str, actions: tuple[str, ...]) -> AuditEvent | None:
        """The latest event of one of ``actions`` that names ``gateway`` (its ``gateway`` field):
        one gateway's own last start or bind in the team's chain."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT seq, ts, actor, action, payload FROM audit"
                " WHERE action = ANY(%s) AND payload::jsonb ->> 'gateway' = %s ORDER BY seq DESC LIMIT 1",
                (list(actions), gateway),
            )
            row = await cursor.fetchone()
        return AuditEvent(int(row[0]), int(row[1]), row[2], row[3], json.loads(row[4])) if row else None

    async def events(self, after: int = 0, limit: int = 100) -> list[AuditEvent]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT seq, ts, actor, action, payload FROM audit WHERE seq > %s ORDER BY seq LIMIT %s", (after, limit)
            )
            rows = await cursor.fetchall()
        return [AuditEvent(int(r[0]), int(r[1]), r[2], r[3], json.loads(r[4])) for r in rows]

    async def _rows(self) -> list[Row]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(_ALL_ROWS)
            return [(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in await cursor.fetchall()]

    async def export(self) -> list[dict[str, Any]]:
        return [dict(zip(ROW_FIELDS, row, strict=True)) for row in await self._rows()]

    async def verify(self) -> Verdict:
        return audit.verify_rows(await self._rows(), None)
