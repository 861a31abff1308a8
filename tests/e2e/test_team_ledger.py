"""Two gateways over one real PostgreSQL (``[store] url``) record their usage rows in the team's one
ledger, once each and none in their own folders; the admin Usage report of either reads it, and a
gateway that starts later counts a key's requests made on the others against its limit."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import psycopg
from conftest import StartGateway
from fakes.openai_upstream import FakeOpenAI
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.team import team_member

from gateway.runtime.server import GatewayServer

TOKEN = "sb-admin-team-ledger-token-0000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
EACH = 3  # requests through each gateway
LIMIT = 2 * EACH  # the key's requests a minute: all of them, so the next gateway has none left


async def _request_ids(server: PostgresServer, url: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(url, password=server.password) as conn:
        cursor = await conn.execute("SELECT request_id FROM usage WHERE kind = 'request'")
        return [row[0] for row in await cursor.fetchall()]


async def _chat(session: aiohttp.ClientSession, url: str, key: str) -> int:
    async with session.post(
        f"{url}/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {key}"}
    ) as response:
        return response.status


async def test_both_gateways_requests_land_in_the_one_ledger_once_each(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:

    async def started() -> GatewayServer:
        return await team_member(start_gateway, upstream, postgres_server, postgres_url, admin_token=TOKEN)

    one, two = await started(), await started()
    async with aiohttp.ClientSession() as session:
        made = {"label": "team", "limits": {"requests_per_minute": LIMIT}}
        async with session.post(f"{one.url}/admin/keys", json=made, headers=ADMIN) as response:
            assert response.status == 201, await response.text()
            key = (await response.json())["key"]
        for _ in range(100):  # until the other gateway has heard of it (test_team_keys: within a second)
            async with session.get(f"{two.url}/v1/models", headers={"Authorization": f"Bearer {key}"}) as response:
                if response.status == 200:
                    break
            await asyncio.sleep(0.02)
        statuses = await asyncio.gather(*(_chat(session, g.url, key) for g in (one, two) for _ in range(EACH)))
        assert statuses == [200] * 2 * EACH

        for _ in range(200):  # the batcher writes within moments of each answer
            if len(await _request_ids(postgres_server, postgres_url)) >= 2 * EACH:
                break
            await asyncio.sleep(0.02)
        ids = await _request_ids(postgres_server, postgres_url)
        assert len(ids) == len(set(ids)) == 2 * EACH

        async with session.get(f"{two.url}/admin/usage?view=summary&since=0", headers=ADMIN) as response:
            summary: Any = await response.json()
        assert summary["rows"][0]["requests"] == 2 * EACH  # one's requests too

        three = await started()  # its limits restored from the team's ledger: the key's minute is spent
        assert await _chat(session, three.url, key) == 429

    for gateway in (one, two, three):
        assert gateway.state is not None
        kept = await gateway.state.db.read(lambda conn: conn.execute("SELECT count(*) FROM usage").fetchone())
        assert kept == (0,)  # not in the state folder's database
