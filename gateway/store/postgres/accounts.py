"""Subscription accounts and their quota windows in PostgreSQL, shared by the team's gateways
(the rows; their tokens, when kept here, are sealed in ``tokens`` and removed with the row).
Connecting takes a lock on the table for its transaction, so two gateways connecting accounts of
one name at once still give them different labels; a quota window older than the one held never
replaces it."""

from __future__ import annotations

from typing import cast

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from gateway.store.accounts import AccountRow, Connecting, QuotaRow, unique_label
from gateway.store.postgres.audit import append_in
from gateway.store.seam import Event

_SAVE = (
    "INSERT INTO accounts (id, kind, label, subject, email, plan, state, origin, sync_path, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (id) DO UPDATE SET label = excluded.label, email = excluded.email, plan = excluded.plan,"
    " state = excluded.state, origin = excluded.origin, sync_path = excluded.sync_path,"
    " updated_at = excluded.updated_at"
)
_SAVE_QUOTA = (
    'INSERT INTO quota (label, "window", provider, used_percent, resets_at, window_seconds, entitlement, remaining,'
    " unlimited, taken_at, first_percent, first_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ' ON CONFLICT (label, "window") DO UPDATE SET provider = excluded.provider,'
    " used_percent = excluded.used_percent, resets_at = excluded.resets_at,"
    " window_seconds = excluded.window_seconds, entitlement = excluded.entitlement, remaining = excluded.remaining,"
    " unlimited = excluded.unlimited, taken_at = excluded.taken_at, first_percent = excluded.first_percent,"
    " first_at = excluded.first_at WHERE quota.taken_at <= excluded.taken_at"
)


async def _rows(conn: AsyncConnection) -> list[AccountRow]:
    cursor = await conn.execute(
        "SELECT id, kind, label, subject, email, plan, state, origin, sync_path, created_at, updated_at"
        " FROM accounts ORDER BY created_at, id"
    )
    return [AccountRow(*row) for row in await cursor.fetchall()]


async def _find(conn: AsyncConnection, id_or_label: str) -> AccountRow | None:
    cursor = await conn.execute(
        "SELECT id, kind, label, subject, email, plan, state, origin, sync_path, created_at, updated_at"
        " FROM accounts WHERE id = %s OR label = %s",
        (id_or_label, id_or_label),
    )
    row = await cursor.fetchone()
    return AccountRow(*row) if row else None


class PostgresAccounts:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def load(self) -> list[AccountRow]:
        async with self._pool.connection() as conn:
            return await _rows(conn)

    async def find(self, id_or_label: str) -> AccountRow | None:
        async with self._pool.connection() as conn:
            return await _find(conn, id_or_label)

    async def connect(self, new: Connecting) -> AccountRow:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE")  # one connecting at a time
            before = await _find(conn, new.id)
            taken = {row.label: row for row in await _rows(conn)}
            label = unique_label(taken.get, f"{new.kind}:{new.name}", new.id)
            row = new.row(label, before)
            await conn.execute(
                _SAVE,
                (row.id, row.kind, row.label, row.subject, row.email, row.plan, row.state, row.origin,
                 row.sync_path, row.created_at, row.updated_at),
            )  # fmt: skip
            await append_in(conn, Event(*new.event(label, before is not None)))
            return row

    async def remove(self, id_or_label: str, actor: str, ts_ms: int) -> AccountRow | None:
        async with self._pool.connection() as conn, conn.transaction():
            row = await _find(conn, id_or_label)
            if row is None:
                return None
            await conn.execute("DELETE FROM accounts WHERE id = %s", (row.id,))
            await conn.execute("DELETE FROM account_tokens WHERE id = %s", (row.id,))  # sealed ones, if kept here
            await conn.execute("DELETE FROM quota WHERE label = %s", (row.label,))
            event = Event(ts_ms, actor, "account.removed", {"id": row.id, "kind": row.kind, "label": row.label})
            await append_in(conn, event)
            return row

    async def set_state(
        self, account_id: str, state: str, now: float, plan: str | None = None, event: Event | None = None
    ) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE accounts SET state = %s, plan = COALESCE(%s, plan), updated_at = %s WHERE id = %s",
                (state, plan, now, account_id),
            )
            if event is not None:
                await append_in(conn, event)

    async def save_quota(self, rows: list[QuotaRow]) -> None:
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            ordered = sorted(rows, key=lambda row: (row[0], row[1]))  # in one order: two never deadlock
            await cursor.executemany(_SAVE_QUOTA, ordered)

    async def load_quota(self) -> list[QuotaRow]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                'SELECT label, "window", provider, used_percent, resets_at, window_seconds, entitlement, remaining,'
                ' unlimited, taken_at, first_percent, first_at FROM quota ORDER BY label, "window"'
            )
            return [cast(QuotaRow, tuple(row)) for row in await cursor.fetchall()]
