"""``connect`` in team mode (``[store] url``): the client key made for a tool is made in the team's
database, where every gateway of the team takes it, not in this folder's; and one made for a file
that cannot take it is revoked there."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.auth.client_keys import key_id_of
from gateway.cli.main import main
from gateway.store.keys import KeyRecord
from gateway.store.postgres.store import open_store


async def team_keys(url: str, password: str) -> list[KeyRecord]:
    store = await open_store(url, password)
    try:
        return await store.keys.load()
    finally:
        await store.close()


async def test_a_tools_key_is_made_and_revoked_in_the_teams_database(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.setenv("SWITCHBOARD_SECRETS", "memory")
    monkeypatch.setenv("SWITCHBOARD_STORE_PASSWORD", postgres_server.password)
    state = tmp_path / "state"
    state.mkdir()
    (state / "config.toml").write_text(f'[server]\nrequire_keys = true\n\n[store]\nurl = "{postgres_url}"\n')

    (home / ".codex" / "config.toml").mkdir()  # a folder where Codex's file should be: the key made goes again
    assert await asyncio.to_thread(main, ["connect", "codex", "--home", str(state)]) == 1
    (refused,) = await team_keys(postgres_url, postgres_server.password)
    assert refused.label == "Codex CLI" and refused.revoked_at is not None

    (home / ".codex" / "config.toml").rmdir()
    assert await asyncio.to_thread(main, ["connect", "codex", "--home", str(state)]) == 0
    written = tomllib.loads((home / ".codex" / "config.toml").read_text(encoding="utf-8"))
    token = written["model_providers"]["switchboard"]["experimental_bearer_token"]
    live = [key.id for key in await team_keys(postgres_url, postgres_server.password) if key.revoked_at is None]
    assert live == [key_id_of(token)]
