"""Each provider's last model list and its unspoken protocols in PostgreSQL, shared by the team's
gateways: whichever asked the provider last, every one restarts knowing its models. A list older
than the one held (a slower gateway's) never replaces it."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from gateway.store.model_lists import ModelListRow, UnspokenRow

_SAVE = (
    "INSERT INTO model_lists (provider, source, taken_at, entries) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (provider) DO UPDATE SET source = excluded.source, taken_at = excluded.taken_at,"
    " entries = excluded.entries WHERE model_lists.taken_at <= excluded.taken_at"
)
_SAVE_UNSPOKEN = (
    "INSERT INTO unspoken (provider, protocol, source, learned_at) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (provider, protocol) DO UPDATE SET source = excluded.source, learned_at = excluded.learned_at"
    " WHERE unspoken.learned_at <= excluded.learned_at"
)


class PostgresModelLists:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def save(self, rows: list[ModelListRow]) -> None:
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.executemany(_SAVE, sorted(rows))  # in one order: two gateways never deadlock

    async def load(self, taken_since: float) -> list[ModelListRow]:
        """The lists taken at or after ``taken_since``; older ones are dropped for good."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM model_lists WHERE taken_at < %s", (taken_since,))
            cursor = await conn.execute("SELECT provider, source, taken_at, entries FROM model_lists ORDER BY provider")
            return [(p, s, t, e) for p, s, t, e in await cursor.fetchall()]

    async def save_unspoken(self, rows: list[UnspokenRow]) -> None:
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.executemany(_SAVE_UNSPOKEN, sorted(rows))

    async def load_unspoken(self, learned_since: float) -> list[UnspokenRow]:
        """What was learned at or after ``learned_since``; older knowledge is dropped for good."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM unspoken WHERE learned_at < %s", (learned_since,))
            cursor = await conn.execute(
                "SELECT provider, protocol, source, learned_at FROM unspoken ORDER BY provider, protocol"
            )
            return [(p, protocol, s, t) for p, protocol, s, t in await cursor.fetchall()]
