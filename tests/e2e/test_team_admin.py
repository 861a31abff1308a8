"""Two gateways over one real PostgreSQL share one admin login: the password set through one signs
in on the other, a session's tokens made by one are honoured and renewed by the other (one team
secret signs them), and a refresh token spent once is refused by both when presented again,
which is audited once, in the team's chain; nothing of it is in either state folder."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import psycopg
from argon2 import PasswordHasher
from conftest import StartGateway
from fakes.clock import FakeClock
from fakes.openai_upstream import FakeOpenAI
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.team import team_member

from gateway.auth.passwords import Passwords
from gateway.auth.sessions import REUSE_GRACE
from gateway.runtime.server import GatewayServer

PASSWORD = "one password for the whole team"
FAST = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


async def _post(gateway: GatewayServer, path: str, body: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(f"{gateway.url}{path}", json=body) as response:
        return response.status, await response.json()


async def _keys(gateway: GatewayServer, access_token: str) -> int:
    headers = {"Authorization": f"Bearer {access_token}"}
    async with aiohttp.ClientSession() as session, session.get(f"{gateway.url}/admin/keys", headers=headers) as r:
        return r.status


async def _login(gateway: GatewayServer) -> tuple[int, Any]:
    return await _post(gateway, "/admin/auth/login", {"username": "admin", "password": PASSWORD})


async def _refresh(gateway: GatewayServer, refresh_token: str) -> tuple[int, Any]:
    return await _post(gateway, "/admin/auth/refresh", {"refresh_token": refresh_token})


async def _local(gateway: GatewayServer) -> tuple[int, int, int]:
    """What the gateway's state folder holds of the login: admin rows, refresh tokens, audit events."""
    assert gateway.state is not None

    def counted(conn: Any) -> tuple[int, int, int]:
        tables = ("admin", "refresh_tokens", "audit")
        a, r, e = (int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for table in tables)
        return a, r, e

    return await gateway.state.db.writer.call(counted)


async def test_one_admin_login_and_its_sessions_for_every_gateway_of_the_team(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    clock = FakeClock(time.time())
    one = await team_member(
        start_gateway, upstream, postgres_server, postgres_url, admin_password=PASSWORD, passwords=FAST, clock=clock
    )
    two = await team_member(start_gateway, upstream, postgres_server, postgres_url, passwords=FAST, clock=clock)

    status, on_two = await _login(two)  # the password came to one, from its environment
    assert status == 200, on_two
    status, on_one = await _login(one)
    assert status == 200 and await _keys(two, on_one["access_token"]) == 200  # minted by one, good on two
    status, renewed = await _refresh(two, on_one["refresh_token"])  # issued by one, renewed by two
    assert status == 200 and await _keys(one, renewed["access_token"]) == 200

    clock.now += REUSE_GRACE + 1  # no retry's any more: a copy's
    status, reused = await _refresh(one, on_one["refresh_token"])
    assert status == 401 and "already used" in reused["error"]["message"]
    for gateway in (one, two):  # its family ended on both, the copy and the one renewed
        for token in (on_one["refresh_token"], renewed["refresh_token"]):
            assert (await _refresh(gateway, token))[0] == 401
    assert (await _refresh(one, on_two["refresh_token"]))[0] == 200  # another session lives on

    async with await psycopg.AsyncConnection.connect(postgres_url, password=postgres_server.password) as conn:
        cursor = await conn.execute("SELECT action FROM audit WHERE action LIKE %s ORDER BY seq", ("admin.%",))
        actions = [row[0] for row in await cursor.fetchall()]
    assert actions == ["admin.created", "admin.login", "admin.login", "admin.refresh_reuse"]
    assert [await _local(gateway) for gateway in (one, two)] == [(0, 0, 0), (0, 0, 0)]
