"""Two gateways, each with its own state folder and secret store, over one real PostgreSQL
(``[store] url``): a client key created through one's admin API is accepted by the other at once,
its new limits hold on both, and once revoked it is refused by both; the key's changes are audited
in the team's one chain, and ``/health/ready`` asks PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import psycopg
from conftest import StartGateway
from fakes.openai_upstream import FakeOpenAI
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.team import team_member

from gateway.runtime.server import GatewayServer
from gateway.store.postgres.store import PASSWORD_SECRET
from gateway.store.secrets import MemorySecrets

TOKEN = "sb-admin-team-keys-token-000000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
AT_ONCE = 1.0  # seconds: the announcement, not the periodic reload (2 s), must carry it


async def _two(start_gateway: StartGateway, upstream: FakeOpenAI, server: PostgresServer, url: str) -> list[str]:
    return [(await team_member(start_gateway, upstream, server, url, admin_token=TOKEN)).url for _ in range(2)]


async def _models(session: aiohttp.ClientSession, url: str, key: str) -> int:
    async with session.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"}) as response:
        return response.status


async def _within(seconds: float, check: Any) -> float:
    """How long ``check()`` took to come true, polled; AssertionError past ``seconds``."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, "not seen in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def test_a_key_made_on_one_gateway_is_taken_by_the_other_at_once_and_once_revoked_by_neither(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    one, two = await _two(start_gateway, upstream, postgres_server, postgres_url)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{one}/admin/keys", json={"label": "team"}, headers=ADMIN) as response:
            assert response.status == 201, await response.text()
            made = await response.json()
        key = made["key"]
        assert await _models(session, one, key) == 200
        await _within(AT_ONCE, lambda: _ok(session, two, key, 200))
        async with session.get(f"{two}/admin/keys", headers=ADMIN) as response:
            assert [k["id"] for k in (await response.json())["keys"]] == [made["id"]]

        limits = {"tier": "standard", "limits": {"requests_per_minute": 7}}
        async with session.post(f"{two}/admin/keys/{made['id']}/limits", json=limits, headers=ADMIN) as response:
            assert response.status in (200, 204), await response.text()
        await _within(AT_ONCE, lambda: _limits_seen(session, one, {"requests_per_minute": 7}))

        async with session.delete(f"{two}/admin/keys/{made['id']}", headers=ADMIN) as response:
            assert response.status in (200, 204), await response.text()
        assert await _models(session, two, key) == 401
        await _within(AT_ONCE, lambda: _ok(session, one, key, 401))

        async with session.get(f"{one}/health/ready") as response:
            assert response.status == 200

    async with await psycopg.AsyncConnection.connect(postgres_url, password=postgres_server.password) as conn:
        cursor = await conn.execute("SELECT action FROM audit WHERE action LIKE 'key.%' ORDER BY seq")
        actions = [row[0] for row in await cursor.fetchall()]
    assert actions == ["key.created", "key.limits_changed", "key.revoked"]  # after both starts


async def _limits_seen(session: aiohttp.ClientSession, url: str, limits: dict[str, int]) -> bool:
    async with session.get(f"{url}/admin/keys", headers=ADMIN) as response:
        return bool((await response.json())["keys"][0]["limits"] == limits)


async def _ok(session: aiohttp.ClientSession, url: str, key: str, status: int) -> bool:
    return await _models(session, url, key) == status


async def test_ready_asks_the_teams_database(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    secrets = MemorySecrets()
    secrets.set(PASSWORD_SECRET, postgres_server.password)
    gateway: GatewayServer = await start_gateway(f'[store]\nurl = "{postgres_url}"\n', secrets=secrets)
    assert await _ready(gateway.url) == 200
    name = postgres_url.rsplit("/", 1)[1]
    async with await psycopg.AsyncConnection.connect(
        postgres_server.url(), password=postgres_server.password, autocommit=True
    ) as conn:  # the database taken away from under it: its connections ended, new ones refused
        await conn.execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        assert await _ready(gateway.url) == 503  # the state folder's SQLite answers all the same
        await conn.execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")


async def _ready(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/health/ready") as response:
        return response.status
