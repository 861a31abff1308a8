"""``doctor`` in team mode, over a real PostgreSQL and Redis: both answering with the gateways'
passwords is a finding each, fine; Redis stopped and a wrong database password are each named,
broken, with what would fix it; a database not yet migrated is a note; neither set, nothing is said
of them; the team's accounts are the ones checked; and a serving gateway's own doctor (the app's
button) checks its team's database too."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_KEY, StartGateway, free_ports, local_off, provider_table
from fakes.openai_upstream import FakeOpenAI
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.redis import RedisServer
from servers.team import team_member

from gateway.admin.doctor_team import TeamPlaces, redis_finding, store_finding
from gateway.cli import main as cli
from gateway.store.postgres.store import PASSWORD_SECRET, open_store
from gateway.store.secrets import MemorySecrets

REDIS_PASSWORD = "redis-pass-for-the-doctor-0001"


@pytest.fixture
def redis(redis_folder: Path) -> Iterator[RedisServer]:
    server = RedisServer(redis_folder, None, "--requirepass", REDIS_PASSWORD)
    server.start()
    yield server
    server.stop()


async def migrated(url: str, password: str) -> str:
    store = await open_store(url, password)
    await store.close()
    return url


async def run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    team: str,
    store_password: str | None,
    upstream: FakeOpenAI,
) -> tuple[int, dict[str, Any]]:
    """The command over ``team``'s settings, the database's password (if any) in the secret store
    and Redis's in the environment: its exit code and its findings by area."""
    (port,) = free_ports(1)
    config = f"[server]\nport = {port}\n\n{team}\n{provider_table('good', upstream)}{local_off()}"
    (tmp_path / "config.toml").write_text(config)
    secrets = MemorySecrets()
    if store_password is not None:
        secrets.set(PASSWORD_SECRET, store_password)
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: secrets)
    monkeypatch.setenv("GOOD_KEY", FAKE_KEY)
    monkeypatch.setenv("SWITCHBOARD_REDIS_PASSWORD", REDIS_PASSWORD)
    monkeypatch.delenv("SWITCHBOARD_STORE_PASSWORD", raising=False)
    code = await asyncio.to_thread(cli.main, ["doctor", "--home", str(tmp_path), "--json"])
    return code, {f["area"]: f for f in json.loads(capsys.readouterr().out)}


async def test_a_live_database_and_redis_are_each_fine(
    upstream: FakeOpenAI,
    redis: RedisServer,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = await migrated(postgres_url, postgres_server.password)
    team = f'[store]\nurl = "{url}"\n\n[shared]\nredis = "{redis.url}"\n'
    code, found = await run(tmp_path, monkeypatch, capsys, team, postgres_server.password, upstream)
    database, shared = found["database"], found["redis"]
    assert database["verdict"] == "ok", database
    assert database["subject"] == url.rpartition("@")[2] and "schema up to date" in database["words"]
    assert shared["verdict"] == "ok", shared
    assert shared["subject"] == f"127.0.0.1:{redis.port}" and "ms a round trip" in shared["words"]
    assert code == 0


async def test_redis_stopped_and_a_wrong_database_password_are_named_with_their_fix(
    upstream: FakeOpenAI,
    redis: RedisServer,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = await migrated(postgres_url, postgres_server.password)
    redis.stop()
    team = f'[store]\nurl = "{url}"\n\n[shared]\nredis = "{redis.url}"\n'
    code, found = await run(tmp_path, monkeypatch, capsys, team, "not-the-password", upstream)
    assert code == 1
    database, shared = found["database"], found["redis"]
    assert database["verdict"] == "broken"
    assert "refuses the gateways' password: password authentication failed" in database["words"]
    assert "SWITCHBOARD_STORE_PASSWORD" in database["advice"]
    assert shared["verdict"] == "broken" and "cannot be reached" in shared["words"]
    assert shared["advice"].startswith("Start it, or correct [shared] redis in the settings.")
    # The terminal's line says the problem and its fix together.
    text = await asyncio.to_thread(cli.main, ["doctor", "--home", str(tmp_path)])
    assert text == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("BROKEN  The team's Redis") and "Start it" in line for line in lines), lines


async def test_no_password_and_a_database_never_migrated(
    upstream: FakeOpenAI,
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_server: PostgresServer,  # noqa: F811
) -> None:
    team = f'[store]\nurl = "{postgres_url}"\n'
    code, found = await run(tmp_path, monkeypatch, capsys, team, None, upstream)
    assert (code, found["database"]["verdict"]) == (1, "broken")
    assert found["database"]["words"].endswith("asks for a password.")
    assert "redis" not in found  # not set: nothing said of it
    # The probe itself migrates nothing (the command, as every other, opens the team's database after).
    secrets = MemorySecrets()
    secrets.set(PASSWORD_SECRET, postgres_server.password)
    fresh = await store_finding(postgres_url, TeamPlaces(postgres_url, None, secrets, {}))
    assert (fresh["verdict"], fresh["advice"]) == ("note", "The next gateway to start brings it up to date."), fresh
    assert "step 0 of" in fresh["words"]


async def test_without_team_settings_nothing_is_said_of_a_database_or_redis(
    upstream: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, found = await run(tmp_path, monkeypatch, capsys, "", None, upstream)
    assert code == 0 and not {"database", "redis"} & set(found)


async def test_a_serving_gateways_own_doctor_checks_its_team(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    gateway = await team_member(start_gateway, upstream, postgres_server, postgres_url)
    assert gateway.control is not None and gateway.port is not None
    findings = await gateway.control.doctor(("127.0.0.1", gateway.port))
    (database,) = [f for f in findings if f["area"] == "database"]
    assert database["verdict"] == "ok", database


async def test_redis_named_where_its_client_is_not_installed_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("redis", "redis.asyncio", "redis.exceptions"):
        monkeypatch.setitem(sys.modules, module, None)  # as if the team extra were not installed
    places = TeamPlaces(None, "redis://127.0.0.1:6379/0", MemorySecrets(), {})
    found = await redis_finding("redis://127.0.0.1:6379/0", places)
    assert found["verdict"] == "broken" and "not installed" in found["words"]
