"""The admin login in PostgreSQL, shared by the team's gateways: a session begun through one is
honoured, renewed and ended on every one. The same steps as the SQLite store's
(``gateway.store.admin_login``); a refresh token's row is locked while it is spent, so the same
token presented to two gateways at once is spent by one, and the other is told it raced. The
sessions' tokens are signed with one secret for the team, kept in the database as the client
keys' pepper is (each gateway's secret store has its own)."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from gateway.store.admin_login import Outcome, Spend
from gateway.store.postgres.audit import append_in
from gateway.store.postgres.team_secrets import team_secret
from gateway.store.seam import Event

_SET = (
    "INSERT INTO admin (name, phc, changed) VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE SET"
    " phc = excluded.phc, changed = excluded.changed, generation = admin.generation + 1 RETURNING generation"
)
_SET_FIRST = (  # no row returned: one was set already
    "INSERT INTO admin (name, phc, changed) VALUES (%s, %s, %s) ON CONFLICT (name) DO NOTHING RETURNING generation"
)
JWT_SECRET = "jwt-secret"
JWT_SECRET_SIZE = 64  # bytes, as each gateway's own (``sessions.SHORTEST_SECRET``)


async def _generation(conn: AsyncConnection, subject: str) -> int | None:
    cursor = await conn.execute("SELECT generation FROM admin WHERE name = %s", (subject,))
    row = await cursor.fetchone()
    return int(row[0]) if row else None


class PostgresAdminLogin:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def jwt_secret(self) -> bytes:
        """The team's secret for signing sessions' tokens: an access token one gateway made is good on all."""
        return await team_secret(self._pool, JWT_SECRET, JWT_SECRET_SIZE)

    async def password(self, name: str) -> tuple[str, int] | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute("SELECT phc, generation FROM admin WHERE name = %s", (name,))
            row = await cursor.fetchone()
            return (str(row[0]), int(row[1])) if row else None

    async def generation(self, subject: str) -> int | None:
        async with self._pool.connection() as conn:
            return await _generation(conn, subject)

    async def set_password(self, name: str, phc: str, now: float, actor: str, ts_ms: int, first: bool = False) -> bool:
        """``first``: only when none is set: of gateways starting at once with the environment's
        password, the first to insert sets it and the others leave it (no change audited)."""
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(_SET_FIRST if first else _SET, (name, phc, now))
            if (row := await cursor.fetchone()) is None:
                return False  # ``first``, and one was set meanwhile
            await conn.execute("UPDATE refresh_tokens SET revoked = true WHERE NOT revoked")
            action = "admin.password_changed" if row[0] > 0 else "admin.created"
            await append_in(conn, Event(ts_ms, actor, action, {"name": name}))
            return True

    async def rehash(self, name: str, phc: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("UPDATE admin SET phc = %s WHERE name = %s", (phc, name))

    async def issue(self, digest: bytes, family: str, subject: str, expires: float) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO refresh_tokens (digest, family, subject, expires) VALUES (%s, %s, %s, %s)",
                (digest, family, subject, expires),
            )

    async def spend(self, spent: Spend) -> Outcome:
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "SELECT family, spent_at, revoked, expires FROM refresh_tokens WHERE digest = %s FOR UPDATE",
                (spent.digest,),
            )
            row = await cursor.fetchone()
            if row is None or row[0] != spent.family:
                return "unknown"
            _, spent_at, revoked, expires = row
            if revoked or expires < spent.now or await _generation(conn, spent.subject) != spent.generation:
                return "revoked"
            if spent_at is not None:
                if spent.now - spent_at <= spent.grace:
                    return "raced"
                await conn.execute("UPDATE refresh_tokens SET revoked = true WHERE family = %s", (spent.family,))
                await append_in(
                    conn, Event(spent.ts_ms, spent.subject, "admin.refresh_reuse", {"family": spent.family})
                )
                return "reused"
            await conn.execute("UPDATE refresh_tokens SET spent_at = %s WHERE digest = %s", (spent.now, spent.digest))
            await conn.execute(
                "INSERT INTO refresh_tokens (digest, family, subject, expires) VALUES (%s, %s, %s, %s)",
                (spent.new_digest, spent.family, spent.subject, spent.new_expires),
            )
            return "ok"
