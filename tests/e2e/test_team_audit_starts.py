"""Two gateways over one real PostgreSQL audit their starts and a live change of address in the
team's one chain, each compared with its own last start and bind (not the other's), and keep
nothing in their state folders' audit tables; the chain verifies from either gateway and the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
from conftest import StartGateway
from fakes.openai_upstream import FakeOpenAI
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.team import team_member

from gateway.cli import main as cli
from gateway.runtime.server import GatewayServer, ListenError
from gateway.store.postgres.audit import PostgresAudit
from gateway.store.postgres.store import PASSWORD_ENV
from gateway.store.secrets import MemorySecrets

TOKEN = "sb-admin-team-start-token-000000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


async def _events(server: PostgresServer, url: str) -> list[tuple[str, dict[str, Any]]]:
    async with await psycopg.AsyncConnection.connect(url, password=server.password) as conn:
        cursor = await conn.execute("SELECT action, payload FROM audit ORDER BY seq")
        return [(row[0], json.loads(row[1])) for row in await cursor.fetchall()]


async def _local_audit(gateway: GatewayServer) -> int:
    assert gateway.state is not None
    row = await gateway.state.db.writer.call(lambda conn: conn.execute("SELECT count(*) FROM audit").fetchone())
    return int(row[0])


async def test_starts_and_an_address_change_of_two_gateways_are_each_compared_with_their_own(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def member(host: str, folder: str) -> GatewayServer:
        listen = f'host = "{host}"\nallowed_hosts = ["127.0.0.2", "127.0.0.3"]\n'
        (data_dir := tmp_path / folder).mkdir(mode=0o700, exist_ok=True)
        return await team_member(
            start_gateway, upstream, postgres_server, postgres_url, listen, admin_token=TOKEN, data_dir=data_dir
        )

    one, two = await member("127.0.0.1", "one"), await member("127.0.0.2", "two")
    config = tmp_path / "config1.toml"  # two's, which a person edits: it moves to another address
    config.write_text(config.read_text(encoding="utf-8").replace("127.0.0.2", "127.0.0.3"), encoding="utf-8")
    await two.reconfigure()
    await one.stop()
    again = await member("127.0.0.1", "one")  # one, started again where it was

    events = await _events(postgres_server, postgres_url)
    starts = [payload for action, payload in events if action == "gateway.started"]
    assert [(start["host"], start["port"]) for start in starts] == [
        ("127.0.0.1", 0),
        ("127.0.0.2", 0),
        ("127.0.0.1", 0),
    ]
    first, second, restarted = (start["gateway"] for start in starts)
    assert first != second and restarted == first
    # The one change: two's, live. Neither start saw the other gateway's address as its own last one.
    changes = [(action, payload) for action, payload in events if action != "gateway.started"]
    assert [(a, c["gateway"], c["before"]["host"], c["after"]["host"]) for a, c in changes] == [
        ("config.bind_changed", second, "127.0.0.2", "127.0.0.3")
    ]

    async with aiohttp.ClientSession() as session:
        for gateway in (again, two):
            async with session.get(f"{gateway.url}/admin/audit/verify", headers=ADMIN) as response:
                verdict: Any = await response.json()
            assert verdict["ok"] and verdict["checked"] == len(events), verdict
    assert [await _local_audit(gateway) for gateway in (again, two)] == [0, 0]

    team = tmp_path / "team.toml"
    team.write_text(f'[store]\nurl = "{postgres_url}"\n', encoding="utf-8")
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: MemorySecrets())
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(PASSWORD_ENV, postgres_server.password)
    assert await asyncio.to_thread(cli.main, ["audit", "--config", str(team), "verify"]) == 0


async def test_a_team_database_lost_before_the_start_is_audited_fails_the_start_in_words(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def gone(*_: object) -> None:  # the driver's own error: the database went away after the join
        raise psycopg.OperationalError("the connection is lost")

    made: list[GatewayServer] = []
    start = GatewayServer.start

    async def kept(server: GatewayServer) -> None:
        made.append(server)
        await start(server)

    monkeypatch.setattr(PostgresAudit, "last_of", gone)
    monkeypatch.setattr(GatewayServer, "start", kept)
    # A ListenError, which the CLI says in one line, then stops the server as the app does after any failure.
    with pytest.raises(ListenError, match="cannot use the team's database: the connection is lost"):
        await team_member(start_gateway, upstream, postgres_server, postgres_url, admin_token=TOKEN)
    await made[0].stop()
    assert made[0].state is None
