"""Two gateways over one real PostgreSQL share one admin login: the password set through one signs
in on the other, a session's tokens made by one are honoured and renewed by the other (one team
secret signs them), and a refresh token spent once is refused by both when presented again,
which is audited once, in the team's chain; nothing of it is in either state folder."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
from argon2 import PasswordHasher
from conftest import StartGateway
from fakes.clock import FakeClock
from fakes.openai_upstream import FakeOpenAI
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.team import team_member

from gateway.auth.passwords import Passwords
from gateway.auth.sessions import REUSE_GRACE
from gateway.cli import main as cli
from gateway.runtime.server import GatewayServer
from gateway.store.postgres.store import PASSWORD_ENV
from gateway.store.secrets import MemorySecrets

PASSWORD = "one password for the whole team"
NEW = "another password for the whole team"
FAST = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


async def _post(gateway: GatewayServer, path: str, body: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(f"{gateway.url}{path}", json=body) as response:
        return response.status, await response.json()


async def _keys(gateway: GatewayServer, access_token: str) -> int:
    headers = {"Authorization": f"Bearer {access_token}"}
    async with aiohttp.ClientSession() as session, session.get(f"{gateway.url}/admin/keys", headers=headers) as r:
        return r.status


async def _login(gateway: GatewayServer, password: str = PASSWORD) -> tuple[int, Any]:
    return await _post(gateway, "/admin/auth/login", {"username": "admin", "password": password})


async def _refresh(gateway: GatewayServer, refresh_token: str) -> tuple[int, Any]:
    return await _post(gateway, "/admin/auth/refresh", {"refresh_token": refresh_token})


async def _admin_events(server: PostgresServer, url: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(url, password=server.password) as conn:
        cursor = await conn.execute("SELECT action FROM audit WHERE action LIKE %s ORDER BY seq", ("admin.%",))
        return [row[0] for row in await cursor.fetchall()]


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

    assert await _admin_events(postgres_server, postgres_url) == [
        "admin.created",
        "admin.login",
        "admin.login",
        "admin.refresh_reuse",
    ]
    assert [await _local(gateway) for gateway in (one, two)] == [(0, 0, 0), (0, 0, 0)]


async def test_the_password_changed_with_the_teams_settings_is_every_gateways_at_once(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = await team_member(
        start_gateway, upstream, postgres_server, postgres_url, admin_password=PASSWORD, passwords=FAST
    )
    two = await team_member(start_gateway, upstream, postgres_server, postgres_url, passwords=FAST)
    status, before = await _login(two)
    assert status == 200

    team = tmp_path / "team.toml"  # ``admin password`` run on another machine, with the team's settings
    team.write_text(f'[store]\nurl = "{postgres_url}"\n', encoding="utf-8")
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: MemorySecrets())
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(PASSWORD_ENV, postgres_server.password)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{NEW}\n"))
    assert await asyncio.to_thread(cli.main, ["admin", "--config", str(team), "password"]) == 0

    for gateway in (one, two):  # the session begun before ends on both, then and there
        assert await _keys(gateway, before["access_token"]) == 401
        assert (await _refresh(gateway, before["refresh_token"]))[0] == 401
    assert (await _login(one))[0] == 401
    status, after = await _login(one, NEW)
    assert status == 200 and await _keys(two, after["access_token"]) == 200
    assert await _admin_events(postgres_server, postgres_url) == [
        "admin.created",
        "admin.login",
        "admin.password_changed",
        "admin.login_failed",
        "admin.login",
    ]


async def test_gateways_starting_at_once_with_a_password_from_their_environment_set_it_once(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    async def member(folder: str, password: str) -> GatewayServer:
        (data_dir := tmp_path / folder).mkdir(mode=0o700)
        return await team_member(
            start_gateway, upstream, postgres_server, postgres_url, admin_password=password, data_dir=data_dir
        )

    # Each finds none set, and hashes its own (a Kubernetes StatefulSet starts its pods in parallel):
    # the first to store it sets it, not one and then the other's over it as a change.
    one, two = await asyncio.gather(member("one", PASSWORD), member("two", NEW))
    assert await _admin_events(postgres_server, postgres_url) == ["admin.created"]
    signed_in = [(await _login(gateway, password))[0] for gateway in (one, two) for password in (PASSWORD, NEW)]
    assert sorted(signed_in) == [200, 200, 401, 401] and signed_in[:2] == signed_in[2:]  # the same one on both
