"""Subscription accounts' tokens sealed in the team's PostgreSQL: what one gateway stores another
given the same passphrase reads, the database holds none of it in clear, a gateway given another
passphrase is refused in words that say so, and a blob altered, or moved onto another account's
row, is refused as unreadable without repeating anything it holds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import psycopg
import pytest
from conftest import free_ports
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.store.accounts import Connecting
from gateway.store.db import StoreError
from gateway.store.postgres.store import PostgresStore, open_store
from gateway.store.postgres.tokens import PostgresTokens, sealed_tokens
from gateway.store.seam import TokensUnreadable

PASSPHRASE = "the team's passphrase, long enough"
TOKENS = json.dumps({"id_token": "id-secret", "access_token": "access-secret", "refresh_token": "refresh-secret"})


@pytest.fixture
async def store(postgres_server: PostgresServer, postgres_url: str) -> AsyncIterator[PostgresStore]:  # noqa: F811
    opened = await open_store(postgres_url, postgres_server.password, max_size=2)
    yield opened
    await opened.close()


async def _sealed(store: PostgresStore) -> dict[str, str]:
    async with store._pool.connection() as conn:
        cursor = await conn.execute("SELECT id, sealed FROM account_tokens")
        return {row[0]: row[1] for row in await cursor.fetchall()}


async def _write(store: PostgresStore, account_id: str, sealed: str) -> None:
    async with store._pool.connection() as conn:
        await conn.execute(
            "INSERT INTO account_tokens (id, sealed) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE SET sealed = %s",
            (account_id, sealed, sealed),
        )


async def test_what_one_gateway_seals_another_with_the_same_passphrase_reads(
    store: PostgresStore,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    one = await store.sealed_tokens(PASSPHRASE)
    await one.put("codex-a", TOKENS)
    other = await open_store(postgres_url, postgres_server.password, max_size=2)  # another gateway
    try:
        two = await other.sealed_tokens(PASSPHRASE)
        assert await two.get("codex-a") == TOKENS
        assert await two.get("codex-b") is None
        await two.delete("codex-a")
        assert await one.get("codex-a") is None
    finally:
        await other.close()
    await one.put("codex-a", TOKENS)
    (blob,) = (await _sealed(store)).values()
    assert not any(secret in blob for secret in ("id-secret", "access-secret", "refresh-secret"))


async def test_another_passphrase_is_refused_in_words_that_say_so(store: PostgresStore) -> None:
    await store.sealed_tokens(PASSPHRASE)  # the first gateway to join sets the team's seal
    with pytest.raises(StoreError, match="secrets passphrase is not the one the team's account tokens are sealed"):
        await store.sealed_tokens("another passphrase, long enough")


async def test_an_altered_or_moved_blob_is_refused_without_a_word_of_what_it_holds(store: PostgresStore) -> None:
    tokens = await store.sealed_tokens(PASSPHRASE)
    await tokens.put("codex-a", TOKENS)
    blob = (await _sealed(store))["codex-a"]

    data = json.loads(blob)
    data["data"] = ("A" if data["data"][0] != "A" else "B") + data["data"][1:]
    await _write(store, "codex-a", json.dumps(data))
    with pytest.raises(TokensUnreadable) as altered:
        await tokens.get("codex-a")
    assert "secret" not in str(altered.value)

    await _write(store, "codex-b", blob)  # a blob sealed for one account, copied onto another's row
    with pytest.raises(TokensUnreadable, match="another account's"):
        await tokens.get("codex-b")

    await _write(store, "codex-a", "not a sealed blob")
    with pytest.raises(TokensUnreadable):
        await tokens.get("codex-a")


async def test_removing_an_account_removes_its_sealed_tokens_with_it(store: PostgresStore) -> None:
    tokens = await store.sealed_tokens(PASSPHRASE)
    await tokens.put("codex-a", TOKENS)
    new = Connecting("codex-a", "codex", "me", "sub", "", "plus", "login", "", 1.0, "admin", "account.connected")
    await store.accounts.connect(new)
    assert await store.accounts.remove("codex-a", "admin", 1000) is not None
    assert await _sealed(store) == {}


async def test_the_database_keeps_the_seals_salt_not_its_key(
    store: PostgresStore,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    await store.sealed_tokens(PASSPHRASE)
    async with await psycopg.AsyncConnection.connect(postgres_url, password=postgres_server.password) as conn:
        cursor = await conn.execute("SELECT value FROM team_secrets WHERE name = 'account-token-seal'")
        row = await cursor.fetchone()
    assert row is not None
    header = json.loads(bytes(row[0]))
    assert header["kdf"]["name"] == "argon2id" and set(header) == {"format", "version", "kdf"}


async def test_renewals_of_more_accounts_than_the_pool_holds_each_still_read_and_store_their_tokens(
    store: PostgresStore,
) -> None:
    """Each renewal's lock is held on a connection of its own: held on pooled ones, the locks of
    two accounts took the pool of two, and each renewal then waited for a connection to read its
    tokens with until the pool gave up."""
    tokens = await store.sealed_tokens(PASSPHRASE)

    async def renewal(account_id: str) -> None:
        async with tokens.held(account_id):
            await tokens.get(account_id)
            await tokens.put(account_id, TOKENS)

    accounts = [f"codex-{n}" for n in range(3)]
    await asyncio.wait_for(asyncio.gather(*map(renewal, accounts)), 5.0)
    assert [await tokens.get(account_id) for account_id in accounts] == [TOKENS] * 3


async def test_one_account_is_renewed_by_one_gateway_at_a_time(
    store: PostgresStore,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    other = await open_store(postgres_url, postgres_server.password, max_size=2)  # another gateway
    try:
        gateways = (await store.sealed_tokens(PASSPHRASE), await other.sealed_tokens(PASSPHRASE))
        seen: list[str] = []

        async def renewal(name: str, tokens: PostgresTokens) -> None:
            async with tokens.held("codex-a"):
                seen.append(f"{name} in")
                await asyncio.sleep(0.2)
                seen.append(f"{name} out")

        await asyncio.gather(*(renewal(name, tokens) for name, tokens in zip("12", gateways, strict=True)))
    finally:
        await other.close()
    assert seen in (["1 in", "1 out", "2 in", "2 out"], ["2 in", "2 out", "1 in", "1 out"])


async def test_a_database_that_does_not_answer_is_said_as_the_stores_error(store: PostgresStore) -> None:
    """Not the driver's own: a renewal that cannot read, store or lock fails over, said in words."""
    (port,) = free_ports(1)
    gone = await sealed_tokens(store._pool, PASSPHRASE, f"host=127.0.0.1 port={port} dbname=none", None)
    with pytest.raises(StoreError, match="did not answer"):
        async with gone.held("codex-a"):
            pass
    await store.close()
    for attempt in (gone.get("codex-a"), gone.put("codex-a", TOKENS), gone.delete("codex-a")):
        with pytest.raises(StoreError, match="did not answer"):
            await attempt
