"""``status`` in team mode: asked of one gateway of two over one real PostgreSQL, it lists the team's
client keys (one made on the other gateway) and the ledger's totals over every gateway (requests
the other one answered), read from the team's database, and says its own count is its own; with
the database out of reach, it shows the gateway's own and says so."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import FAKE_KEY, StartGateway
from fakes.openai_upstream import FakeOpenAI
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.team import team_member

from gateway.auth import admin_token
from gateway.cli import main as cli
from gateway.paths import write_private
from gateway.store.postgres.store import PASSWORD_SECRET
from gateway.store.secrets import MemorySecrets

TOKEN = "sb-admin-team-status-token-00000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}


def home_for(tmp_path: Path, member: int, monkeypatch: pytest.MonkeyPatch, password: str) -> Path:
    """A home for the CLI beside gateway ``member``: its settings, its admin token, the database's password."""
    home = tmp_path / "cli"
    (home / "data").mkdir(parents=True)
    shutil.copy(tmp_path / f"config{member}.toml", home / "config.toml")
    write_private(home / "data" / admin_token.FILE_NAME, TOKEN)
    secrets = MemorySecrets()
    secrets.set(PASSWORD_SECRET, password)
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: secrets)
    monkeypatch.setenv("FAKE_KEY", FAKE_KEY)
    monkeypatch.delenv("SWITCHBOARD_STORE_PASSWORD", raising=False)
    return home


async def status(home: Path, url: str, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert await asyncio.to_thread(cli.main, ["status", "--home", str(home), "--url", url, *flags]) == 0
    return capsys.readouterr().out


async def test_status_of_one_gateway_counts_the_teams_keys_and_ledger(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    one, two = [
        await team_member(start_gateway, upstream, postgres_server, postgres_url, admin_token=TOKEN) for _ in range(2)
    ]
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{one.url}/admin/keys", json={"label": "made on one"}, headers=ADMIN) as response:
            assert response.status == 201, await response.text()
            made = await response.json()
        for _ in range(2):
            headers = {"Authorization": f"Bearer {made['key']}"}
            async with session.post(f"{one.url}/v1/chat/completions", json=CHAT, headers=headers) as response:
                assert response.status == 200, await response.text()
    home = home_for(tmp_path, 1, monkeypatch, postgres_server.password)

    deadline = time.monotonic() + 10  # the ledger's rows are written in batches
    while True:
        doc: dict[str, Any] = json.loads(await status(home, two.url, capsys, "--json"))
        if doc["team"]["all"]["requests"] == 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    team = doc["team"]
    assert (team["all"]["requests"], team["day"]["requests"], team["day"]["successful"]) == (2, 2, 2)
    assert [key["id"] for key in team["keys"]] == [made["id"]]
    assert doc["usage"]["requests"] == 0  # what the gateway asked answered itself: none

    text = await status(home, two.url, capsys)
    assert "this gateway served 0 answers since it started" in text
    assert f"team   database {postgres_url.rpartition('@')[2]}; its ledger, every gateway's:" in text
    assert "  last 24 hours  2 requests (2 successful)" in text
    assert "  1 in the team's database; the counts against their limits are this gateway's own" in text
    assert any(line.startswith("  sk-sb-") and "made on one" in line for line in text.splitlines()), text

    # The team's database out of reach (a wrong password here): the gateway's own status, said to be its own.
    wrong = MemorySecrets()
    wrong.set(PASSWORD_SECRET, "not-the-password")
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: wrong)
    assert await asyncio.to_thread(cli.main, ["status", "--home", str(home), "--url", two.url]) == 1
    out, err = capsys.readouterr()
    assert "this gateway served 0 answers since it started" not in out and "served 0 answers" in out
    assert "the team's database cannot be read, so the keys and counts above are this gateway's" in err
