"""Secrets the team's gateways must hold alike, kept in its database (``team_secrets``): each
gateway's own secret store has its own, but a client key made on one must hash alike on every
other, and an admin's session begun on one must be honoured by every other."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from psycopg_pool import AsyncConnectionPool


async def team_secret(pool: AsyncConnectionPool, name: str, size: int) -> bytes:
    """The secret ``name``: made (``size`` random bytes) by the first gateway to ask, the same for all after."""
    return await made_once(pool, name, lambda: secrets.token_bytes(size))


async def made_once(pool: AsyncConnectionPool, name: str, make: Callable[[], bytes]) -> bytes:
    """The value ``name``: made (``make()``) by the first gateway to ask, the same for all after."""
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO team_secrets (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING", (name, make())
        )
        cursor = await conn.execute("SELECT value FROM team_secrets WHERE name = %s", (name,))
        row = await cursor.fetchone()
        assert row is not None  # inserted above, or by whoever came first
        return bytes(row[0])
