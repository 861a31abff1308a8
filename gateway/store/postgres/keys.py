"""Client keys in PostgreSQL: every gateway reads the same rows, so a key made or revoked on one
is seen by the others on their next read."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from gateway.store.keys import KeyRecord, from_row, inserted
from gateway.store.postgres.audit import append_in
from gateway.store.postgres.team_secrets import team_secret
from gateway.store.seam import Event

log = logging.getLogger("gateway.store")


# A key's id on this channel, sent by the database when the change to it commits.
_NOTIFY = "SELECT pg_notify('switchboard_client_keys', %s)"
PEPPER = "client-key-pepper"
RECONNECT = 1.0  # seconds before listening again after the connection was lost
CONNECT_TIMEOUT = 10  # seconds a connection to listen on may take


class PostgresKeys:
    def __init__(self, pool: AsyncConnectionPool, conninfo: str = "", password: str | None = None) -> None:
        self._pool = pool
        self._conninfo = conninfo
        self._kwargs: dict[str, Any] = {"password": password} if password else {}

    async def watch(self, changed: Callable[[str | None], None], reconnect: float = RECONNECT) -> None:
        """Call ``changed(key_id)`` as each key is made, revoked or given new limits by any gateway
        (this one too), moments after it commits, so the others need not wait for their next
        reload; ``changed(None)`` each time it starts listening, at first and after the connection
        was lost (a change may have come before: read them all). Runs until cancelled, on a
        connection of its own."""
        while True:
            try:
                connecting = psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **self._kwargs
                )  # a database that takes the connection and never answers is given up on, then tried again
                async with await connecting as conn:
                    await conn.execute("LISTEN switchboard_client_keys")
                    changed(None)
                    async for notice in conn.notifies():
                        changed(notice.payload)
            except (psycopg.Error, OSError) as exc:
                log.warning("client keys: lost the database's notices (%s); listening again", exc)
            await asyncio.sleep(reconnect)

    async def pepper(self) -> bytes:
        """The team's key-hashing pepper: made by the first gateway to ask, the same for all after."""
        return await team_secret(self._pool, PEPPER, 32)

    async def load(self) -> list[KeyRecord]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT id, label, tier, limits, digest, last4, created_at, last_used, revoked_at, enforce_model"
                " FROM client_keys ORDER BY created_at"
            )
            return [from_row(row) for row in await cursor.fetchall()]

    async def get(self, key_id: str) -> KeyRecord | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT id, label, tier, limits, digest, last4, created_at, last_used, revoked_at, enforce_model"
                " FROM client_keys WHERE id = %s",
                (key_id,),
            )
            row = await cursor.fetchone()
            return from_row(row) if row is not None else None

    async def insert(self, record: KeyRecord, event: Event) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO client_keys (id, label, tier, limits, digest, last4, created_at, enforce_model)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                inserted(record),
            )
            await append_in(conn, event)
            await conn.execute(_NOTIFY, (record.id,))

    async def revoke(self, key_id: str, when: float, event: Event) -> bool:
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "UPDATE client_keys SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL", (when, key_id)
            )
            if cursor.rowcount != 1:
                return False
            await append_in(conn, event)
            await conn.execute(_NOTIFY, (key_id,))
            return True

    async def set_limits(self, key_id: str, tier: str, limits: dict[str, float], event: Event) -> bool:
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "UPDATE client_keys SET tier = %s, limits = %s WHERE id = %s AND revoked_at IS NULL",
                (tier, json.dumps(limits), key_id),
            )
            if cursor.rowcount != 1:
                return False
            await append_in(conn, event)
            await conn.execute(_NOTIFY, (key_id,))
            return True

    async def touch(self, used: list[tuple[float, str]]) -> None:
        if not used:
            return
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.executemany(
                "UPDATE client_keys SET last_used = %s WHERE id = %s AND (last_used IS NULL OR last_used < %s)",
                [(when, key_id, when) for when, key_id in used],
            )
