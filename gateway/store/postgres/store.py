"""Opening the PostgreSQL back end: a pool of connections to ``[store] url``, migrated once.

The URL names no password (the settings refuse one): it comes from the environment
(``SWITCHBOARD_STORE_PASSWORD``, for a container) or the secret store, and is handed to the
driver alone, so no message or log line that shows the address can show it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from gateway.store.db import StoreError
from gateway.store.postgres.accounts import PostgresAccounts
from gateway.store.postgres.admin_login import PostgresAdminLogin
from gateway.store.postgres.audit import PostgresAudit
from gateway.store.postgres.keys import PostgresKeys
from gateway.store.postgres.ledger import PostgresLedger
from gateway.store.postgres.model_lists import PostgresModelLists
from gateway.store.postgres.recorder import Recording, recording
from gateway.store.postgres.schema import migrate
from gateway.store.postgres.tokens import PostgresTokens, sealed_tokens
from gateway.store.secrets import SecretStore

log = logging.getLogger("gateway.store")

PASSWORD_ENV = "SWITCHBOARD_STORE_PASSWORD"
PASSWORD_SECRET = "store-password"
ANSWER_TIMEOUT = 2.0  # seconds a readiness probe waits for a connection before the database counts as down


def store_password(env: Mapping[str, str], secrets: SecretStore) -> str | None:
    """The database password: the environment's, else the secret store's, else none (a trusted
    local socket, or a client certificate named in the URL)."""
    return env.get(PASSWORD_ENV) or secrets.get(PASSWORD_SECRET)


class PostgresStore:
    def __init__(self, pool: AsyncConnectionPool, url: str = "", password: str | None = None) -> None:
        self._pool = pool
        self._url, self._password = url, password
        self._keys = PostgresKeys(pool, url, password)  # its notices come on a connection of their own
        self._audit = PostgresAudit(pool)
        self._ledger = PostgresLedger(pool)
        self._model_lists = PostgresModelLists(pool)
        self._admin_login = PostgresAdminLogin(pool)
        self._accounts = PostgresAccounts(pool)

    @property
    def keys(self) -> PostgresKeys:
        return self._keys

    @property
    def audit(self) -> PostgresAudit:
        return self._audit

    @property
    def ledger(self) -> PostgresLedger:
        return self._ledger

    @property
    def model_lists(self) -> PostgresModelLists:
        return self._model_lists

    @property
    def admin_login(self) -> PostgresAdminLogin:
        return self._admin_login

    @property
    def accounts(self) -> PostgresAccounts:
        return self._accounts

    async def answers(self) -> bool:
        try:
            async with self._pool.connection(timeout=ANSWER_TIMEOUT) as conn:
                await conn.execute("SELECT 1")
        except (psycopg.Error, PoolTimeout, OSError):
            return False
        return True

    async def sealed_tokens(self, passphrase: str) -> PostgresTokens:
        return await sealed_tokens(self._pool, passphrase, self._url, self._password)

    async def recording(self, folder: Path) -> Recording:
        return await recording(folder, self._ledger)

    async def close(self) -> None:
        await self._pool.close()


async def open_store(url: str, password: str | None, *, max_size: int = 8, timeout: float = 10.0) -> PostgresStore:
    """Connect, migrate (once across gateways starting together) and return the store;
    ``StoreError`` saying why when the database cannot be reached or used."""
    kwargs: dict[str, Any] = {"password": password} if password else {}
    checked = _Checked()
    pool = AsyncConnectionPool(
        url, kwargs=kwargs, min_size=1, max_size=max_size, timeout=timeout, check=checked, open=False
    )
    checked.pool = pool
    try:
        # One connection first: a refusal (a wrong password, no such database) says why at once,
        # where the pool would retry until its timeout.
        async with await psycopg.AsyncConnection.connect(url, connect_timeout=max(1, round(timeout)), **kwargs) as conn:
            ran = await migrate(conn)
        await pool.open(wait=True, timeout=timeout)
    except (psycopg.Error, PoolTimeout) as exc:
        await pool.close()
        raise StoreError(f"cannot use the database at {_where(url)}: {_first_line(exc)}") from None
    if ran:
        log.info("database at %s: %d schema step(s) run", _where(url), ran)
    return PostgresStore(pool, url, password)


class _Checked:
    """The pool's check of each connection as it is taken (one round trip): after a restart or a
    failover of the database, a dead one is replaced instead of failing the operation that got it.
    The pool waits a second after each dead one, so the first also has every idle connection
    checked at once: after that wait, the next one taken is a live one."""

    def __init__(self) -> None:
        self.pool: AsyncConnectionPool | None = None
        self._sweep: asyncio.Task[None] | None = None

    async def __call__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            await AsyncConnectionPool.check_connection(conn)
        except Exception:
            if self.pool is not None and (self._sweep is None or self._sweep.done()):
                self._sweep = asyncio.create_task(self.pool.check())
            raise


def _where(url: str) -> str:
    """The address without a user's credentials (the settings refuse a password, but say no more than needed)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
