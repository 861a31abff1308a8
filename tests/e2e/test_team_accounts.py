"""Two gateways, each with its own state folder and secret store, over one real PostgreSQL and one
real Redis, given the same secrets passphrase file: a ChatGPT account imported through one is
listed and served by the other; with its access token lapsed, requests to both at once renew it
exactly once (the fake's token endpoint sees one refresh) and every one is answered with the new
token; its tokens are in the team's database sealed, never in clear, and its quota windows there
too; removed on one, it is gone on the other, tokens and windows with it. With no Redis, the
team's database holds the renewals' lock: renewed once all the same. A gateway given another
passphrase is refused at its start; one given none keeps the tokens in its own secret store, said
once at its start."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
from conftest import StartGateway
from fakes.chatgpt import FakeChatGPT, Tokens
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.redis import RedisServer, redis_server  # noqa: F401 (fixtures)

from gateway.clock import SystemClock
from gateway.runtime.server import GatewayServer, ListenError
from gateway.store.postgres.store import PASSWORD_SECRET
from gateway.store.secrets import PASSPHRASE_FILE_ENV, MemorySecrets

TOKEN = "sb-admin-team-accounts-token-00000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
MODEL = "codex/gpt-5-codex"
EACH = 8  # requests through each gateway at once, on the lapsed token
SEEN = 6.0  # seconds: the other gateway reads the team's accounts again every 2


class Ahead(SystemClock):
    """The gateways' wall clock, moved on when the test says (a token lapses without waiting an hour)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return super().time() + self.ahead


@pytest.fixture
async def chatgpt() -> AsyncIterator[FakeChatGPT]:
    fake = await FakeChatGPT().start()
    yield fake
    await fake.stop()


def _passphrase(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    return path


async def _member(
    start_gateway: StartGateway,
    fake: FakeChatGPT,
    server: PostgresServer,
    url: str,
    redis: RedisServer | None,
    passphrase: Path | None,
    clock: SystemClock | None = None,
    secrets: MemorySecrets | None = None,
) -> GatewayServer:
    config = f'[server]\nrequire_keys = true\n\n[store]\nurl = "{url}"\n\n'
    if redis is not None:
        config += f'[shared]\nredis = "{redis.url}"\n'
    env = {"SWITCHBOARD_CODEX_BASE_URL": fake.url, "SWITCHBOARD_OPENAI_AUTH_URL": fake.root}
    secrets = secrets or MemorySecrets()
    secrets.set(PASSWORD_SECRET, server.password)
    environ = {PASSPHRASE_FILE_ENV: str(passphrase)} if passphrase is not None else {}
    started: GatewayServer = await start_gateway(
        config, env, admin_token=TOKEN, secrets=secrets, environ=environ, clock=clock or SystemClock()
    )
    return started


async def _within(seconds: float, check: Callable[[], Awaitable[bool]]) -> None:
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, "not seen in time"
        await asyncio.sleep(0.05)


async def _listed(session: aiohttp.ClientSession, gateway: GatewayServer) -> list[str]:
    async with session.get(f"{gateway.url}/admin/accounts", headers=ADMIN) as response:
        assert response.status == 200
        return [account["id"] for account in (await response.json())["accounts"]]


async def _chat(session: aiohttp.ClientSession, gateway: GatewayServer, key: str) -> tuple[int, Any]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {key}"}
    async with session.post(f"{gateway.url}/v1/chat/completions", json=body, headers=headers) as response:
        return response.status, await response.json()


async def _sealed(server: PostgresServer, url: str) -> list[tuple[str, str]]:
    async with await psycopg.AsyncConnection.connect(url, password=server.password) as conn:
        cursor = await conn.execute("SELECT id, sealed FROM account_tokens")
        return [(row[0], row[1]) for row in await cursor.fetchall()]


async def _quota_labels(server: PostgresServer, url: str) -> set[str]:
    async with await psycopg.AsyncConnection.connect(url, password=server.password) as conn:
        cursor = await conn.execute("SELECT label FROM quota")
        return {row[0] for row in await cursor.fetchall()}


async def _imported(
    session: aiohttp.ClientSession, one: GatewayServer, two: GatewayServer, fake: FakeChatGPT, folder: Path
) -> tuple[str, dict[str, Any], Tokens]:
    """A client key made and a ChatGPT login imported through ``one``, once ``two`` lists the account too."""
    imported = fake.issue()
    login = folder / "auth.json"
    login.write_text(json.dumps(fake.auth_file(imported)), encoding="utf-8")
    async with session.post(f"{one.url}/admin/keys", json={"label": "team"}, headers=ADMIN) as response:
        assert response.status == 201, await response.text()
        key: str = (await response.json())["key"]
    async with session.post(
        f"{one.url}/admin/accounts/import/codex", json={"path": str(login)}, headers=ADMIN
    ) as response:
        assert response.status == 201, await response.text()
        account: dict[str, Any] = (await response.json())["account"]

    async def two_lists_it() -> bool:
        return await _listed(session, two) == [account["id"]]

    await _within(SEEN, two_lists_it)
    return key, account, imported


async def _renewed_once(
    session: aiohttp.ClientSession, gateways: tuple[GatewayServer, ...], key: str, fake: FakeChatGPT, clock: Ahead
) -> str:
    """The account's access token lapses for every gateway at once: requests to all of them at
    once are each answered with the one token a single renewal got, which is returned."""
    clock.ahead, fake.access_ttl = fake.access_ttl, 10 * fake.access_ttl  # the renewed token outlives the jump
    fake.refresh_delay = 0.3  # the gateways meet the lapsed token while the one renewal runs
    refreshed, asked = fake.refresh_calls, len(fake.requests_to("/responses"))
    answers = await asyncio.gather(*(_chat(session, g, key) for g in gateways for _ in range(EACH)))
    assert [status for status, _ in answers] == [200] * len(gateways) * EACH, answers
    assert fake.refresh_calls == refreshed + 1
    presented = {r.headers["Authorization"].removeprefix("Bearer ") for r in fake.requests_to("/responses")[asked:]}
    assert len(presented) == 1
    (renewed,) = presented
    assert renewed in fake.live_access
    return renewed


async def test_an_account_connected_on_one_gateway_is_served_by_both_and_renewed_once(
    start_gateway: StartGateway,
    chatgpt: FakeChatGPT,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    redis_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    passphrase = _passphrase(tmp_path, "passphrase", "the team's passphrase, long enough")
    clock = Ahead()
    one, two = [
        await _member(start_gateway, chatgpt, postgres_server, postgres_url, redis_server, passphrase, clock)
        for _ in range(2)
    ]
    async with aiohttp.ClientSession() as session:
        key, account, imported = await _imported(session, one, two, chatgpt, tmp_path)
        stored = await _sealed(postgres_server, postgres_url)
        assert [account_id for account_id, _ in stored] == [account["id"]]
        assert imported["refresh_token"] not in stored[0][1] and imported["access_token"] not in stored[0][1]

        renewed = await _renewed_once(session, (one, two), key, chatgpt, clock)
        assert renewed != imported["access_token"]
        (after,) = await _sealed(postgres_server, postgres_url)

        async def its_windows_are_the_teams() -> bool:  # seen on every answer, written every few seconds
            return await _quota_labels(postgres_server, postgres_url) == {account["label"]}

        await _within(SEEN, its_windows_are_the_teams)
        assert after[1] != stored[0][1] and renewed not in after[1]

        async with session.delete(f"{two.url}/admin/accounts/{account['id']}", headers=ADMIN) as response:
            assert response.status == 200, await response.text()

        async def one_has_none() -> bool:
            return await _listed(session, one) == []

        await _within(SEEN, one_has_none)
        assert await _sealed(postgres_server, postgres_url) == []
        assert await _quota_labels(postgres_server, postgres_url) == set()
        status, _ = await _chat(session, one, key)
        assert status != 200


async def test_a_gateway_given_another_passphrase_is_refused_at_its_start(
    start_gateway: StartGateway,
    chatgpt: FakeChatGPT,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    redis_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    ours = _passphrase(tmp_path, "ours", "the team's passphrase, long enough")
    theirs = _passphrase(tmp_path, "theirs", "another passphrase, long enough")
    await _member(start_gateway, chatgpt, postgres_server, postgres_url, redis_server, ours)
    with pytest.raises(ListenError, match="passphrase is not the one"):
        await _member(start_gateway, chatgpt, postgres_server, postgres_url, redis_server, theirs)


async def test_without_redis_the_teams_database_holds_the_renewals_lock(
    start_gateway: StartGateway,
    chatgpt: FakeChatGPT,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    passphrase = _passphrase(tmp_path, "passphrase", "the team's passphrase, long enough")
    clock = Ahead()
    one, two = [
        await _member(start_gateway, chatgpt, postgres_server, postgres_url, None, passphrase, clock) for _ in range(2)
    ]
    async with aiohttp.ClientSession() as session:
        key, _, imported = await _imported(session, one, two, chatgpt, tmp_path)
        assert await _renewed_once(session, (one, two), key, chatgpt, clock) != imported["access_token"]


async def test_with_no_passphrase_file_the_tokens_stay_in_the_gateways_own_secret_store_said_once(
    start_gateway: StartGateway,
    chatgpt: FakeChatGPT,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    own = MemorySecrets()
    with caplog.at_level(logging.WARNING, logger="gateway.accounts"):
        one = await _member(start_gateway, chatgpt, postgres_server, postgres_url, None, None, secrets=own)
    assert [r.getMessage() for r in caplog.records if "passphrase" in r.getMessage()] == [
        "no secrets passphrase file is set: signed-in accounts' tokens stay in this gateway's own secret store,"
        " where the team's other gateways cannot read them (give every gateway the same passphrase file)"
    ]
    login = tmp_path / "auth.json"
    login.write_text(json.dumps(chatgpt.auth_file(chatgpt.issue())), encoding="utf-8")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{one.url}/admin/accounts/import/codex", json={"path": str(login)}, headers=ADMIN) as response,
    ):
        assert response.status == 201, await response.text()
        account = (await response.json())["account"]
    assert f"account:{account['id']}" in own.values and await _sealed(postgres_server, postgres_url) == []
