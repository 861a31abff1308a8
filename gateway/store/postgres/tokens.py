"""Subscription accounts' tokens in the team's PostgreSQL, each sealed as the secrets file is
(``gateway.store.sealing``: Argon2id, then AES-256-GCM) under a key the team's secrets passphrase
makes with one salt kept in the database.

Why here: a ChatGPT refresh token rotates at every renewal, so whichever gateway renews next must
read the one the last renewal stored, and no gateway can read another's secret store. Why sealed:
the database alone (a dump, a replica, its operator) opens no token; every gateway is given the
same passphrase file. The database also keeps a known text sealed under the key, so a gateway
given another passphrase is refused at its start rather than at its first renewal. Each sealed
blob names its account inside the seal: copied onto another account's row, it does not open.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from gateway.store.db import StoreError
from gateway.store.postgres.team_secrets import made_once
from gateway.store.sealing import PassphraseRefused, Seal, SealBroken, fresh_header
from gateway.store.seam import TokensUnreadable

SEAL = "account-token-seal"  # team_secrets: the seal's header (its KDF's salt and parameters)
CHECK = "account-token-check"  # team_secrets: _CHECK_TEXT sealed, what a gateway's passphrase must open
_CHECK_TEXT = "switchboard account tokens"
RENEWAL_LOCKS = 0x53_57_42_44  # advisory locks (this, hashtext(account id)): "SWBD", apart from schema's one-key ones
CONNECT_TIMEOUT = 10  # seconds a renewal's lock's connection may take
WAIT = 80.0  # seconds a renewal waits for another's: longer than its token exchange may take (60), then regardless

log = logging.getLogger("gateway.accounts")


async def sealed_tokens(
    pool: AsyncConnectionPool, passphrase: str, conninfo: str, password: str | None
) -> PostgresTokens:
    """The team's sealed tokens, opened with ``passphrase`` (its key derived once, in a thread);
    ``StoreError`` when it is not the passphrase the team's tokens are sealed with. ``conninfo``
    and ``password``: the database's, for the renewals' locks' own connections."""
    header = await made_once(pool, SEAL, lambda: json.dumps(fresh_header()).encode())
    try:
        seal = await asyncio.to_thread(Seal.derived, json.loads(header), passphrase)
    except (ValueError, SealBroken) as exc:
        raise StoreError(f"the team's seal for account tokens cannot be used: {exc}") from None
    check = await made_once(pool, CHECK, lambda: seal.close(_CHECK_TEXT).encode())
    try:
        opened = seal.open(check.decode())
    except PassphraseRefused:
        opened = None
    except (SealBroken, ValueError) as exc:
        raise StoreError(f"the team's seal for account tokens cannot be used: {exc}") from None
    if opened != _CHECK_TEXT:
        raise StoreError(
            "this gateway's secrets passphrase is not the one the team's account tokens are sealed with: "
            "give every gateway of the team the same passphrase file"
        )
    return PostgresTokens(pool, seal, conninfo, password)


class PostgresTokens:
    where = "the team's database (sealed)"

    def __init__(self, pool: AsyncConnectionPool, seal: Seal, conninfo: str, password: str | None) -> None:
        self._pool = pool
        self._seal = seal
        self._conninfo = conninfo  # the renewals' locks' own connections (``held``)
        self._kwargs: dict[str, Any] = {"password": password} if password else {}

    async def get(self, account_id: str) -> str | None:
        with _answered():
            async with self._pool.connection() as conn:
                cursor = await conn.execute("SELECT sealed FROM account_tokens WHERE id = %s", (account_id,))
                row = await cursor.fetchone()
        return None if row is None else self.opened(account_id, row[0])

    async def put(self, account_id: str, stored: str) -> None:
        sealed = self.sealed(account_id, stored)
        with _answered():
            async with self._pool.connection() as conn:
                await conn.execute(
                    "INSERT INTO account_tokens (id, sealed) VALUES (%s, %s)"
                    " ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed",
                    (account_id, sealed),
                )

    async def delete(self, account_id: str) -> None:
        with _answered():
            async with self._pool.connection() as conn:
                await conn.execute("DELETE FROM account_tokens WHERE id = %s", (account_id,))

    @asynccontextmanager
    async def held(self, account_id: str) -> AsyncIterator[None]:
        """A renewal of ``account_id``'s tokens, one at a time across the team's gateways when no
        Redis lock spans them: an advisory lock on a connection of its own, which the database lets
        go when the renewal ends and the connection closes, or when the gateway holding it dies. Not
        a pooled one: the renewal reads and stores the tokens on pooled ones meanwhile, and renewals
        of as many accounts as the pool holds (or waiting on other gateways') would leave them none."""
        with _answered():
            conn = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **self._kwargs
            )
        try:
            with _answered():
                await conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{round(WAIT * 1000)}ms",))
                try:
                    await conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (RENEWAL_LOCKS, account_id))
                except psycopg.errors.LockNotAvailable:
                    log.warning("the renewal lock of an account was held for over %g s: renewing regardless", WAIT)
            yield
        finally:
            await conn.close()  # its session's lock with it

    def sealed(self, account_id: str, stored: str) -> str:
        return self._seal.close(json.dumps({"account": account_id, "tokens": stored}))

    def opened(self, account_id: str, sealed: str) -> str:
        """What ``sealed`` holds for ``account_id``; ``TokensUnreadable`` (saying nothing of its
        contents) when it does not open, or was sealed for another account."""
        try:
            data = json.loads(self._seal.open(sealed))
        except (SealBroken, ValueError):
            raise TokensUnreadable("its sealed tokens do not open (altered, or sealed under another key)") from None
        if not isinstance(data, dict) or data.get("account") != account_id or not isinstance(data.get("tokens"), str):
            raise TokensUnreadable("its sealed tokens are another account's")
        tokens: str = data["tokens"]
        return tokens


@contextmanager
def _answered() -> Iterator[None]:
    """The driver's failures (the database down, the pool given up) as ``StoreError``, in words:
    a renewal that cannot read, store or lock its tokens fails its attempt over, not the account."""
    try:
        yield
    except (psycopg.Error, OSError) as exc:
        log.warning("the team's database did not answer for an account's tokens (%s)", type(exc).__name__)
        raise StoreError("the team's database did not answer") from None
