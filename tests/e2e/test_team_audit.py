"""Two gateways over one real PostgreSQL (``[store] url``) append every audit event (the admin
password set from the environment, their starts, admin sign-ins, key changes, the summaries of
limit denials) to the team's one chain, which verifies from either gateway's admin route."""

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

TOKEN = "sb-admin-team-audit-token-00000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "a long enough admin password"
CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}


async def _actions(server: PostgresServer, url: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(url, password=server.password) as conn:
        cursor = await conn.execute("SELECT action FROM audit ORDER BY seq")
        return [row[0] for row in await cursor.fetchall()]


async def test_both_gateways_audit_events_go_to_the_one_chain_that_verifies_from_either(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:

    async def started() -> GatewayServer:
        return await team_member(
            start_gateway, upstream, postgres_server, postgres_url, admin_token=TOKEN, admin_password=PASSWORD
        )

    one, two = await started(), await started()
    async with aiohttp.ClientSession() as session:
        for gateway in (one, two):
            login = {"username": "admin", "password": PASSWORD}
            async with session.post(f"{gateway.url}/admin/auth/login", json=login) as response:
                assert response.status == 200, await response.text()
        made = {"label": "team", "limits": {"requests_per_minute": 1}}
        async with session.post(f"{one.url}/admin/keys", json=made, headers=ADMIN) as response:
            key = (await response.json())["key"]
        bearer = {"Authorization": f"Bearer {key}"}
        statuses = []
        for _ in range(100):  # until two has heard of the key, then once more: over its limit
            async with session.post(f"{two.url}/v1/chat/completions", json=CHAT, headers=bearer) as response:
                statuses.append(response.status)
            if statuses[-1] == 429:
                break
            await asyncio.sleep(0.02 if statuses[-1] == 401 else 0)
        assert statuses[-2:] == [200, 429]

        assert two.state is not None and two._housekeeping is not None
        await asyncio.gather(*map(asyncio.wrap_future, two._housekeeping.summarise()))  # the minute's summary

        for gateway in (one, two):
            async with session.get(f"{gateway.url}/admin/audit/verify", headers=ADMIN) as response:
                verdict: Any = await response.json()
            assert verdict["ok"], verdict
    actions = await _actions(postgres_server, postgres_url)
    # The password from the environment, set once for the team, then each start; and what they did.
    assert actions[:6] == [
        "admin.created",
        "gateway.started",
        "gateway.started",
        "admin.login",
        "admin.login",
        "key.created",
    ]
    # and the summary: the denial, with the key's tries on two before it heard of the key, if any
    assert sorted(actions[6:]) in (["limits.denied"], ["auth.failed", "limits.denied"])
    assert verdict["checked"] == len(actions)
