"""The account commands, ``quota`` and ``doctor`` in team mode (``[store] url``), from two machines
(each its own state folder and secret store, one passphrase file): a Codex login imported on one is
the team database's, its tokens sealed there; the other lists it, ``quota`` shows the windows the
team's database keeps, and ``doctor`` there checks that account, signed in, its quota read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import local_off
from fakes.chatgpt import FakeChatGPT
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.cli import main as cli
from gateway.store.postgres.store import open_store
from gateway.store.secrets import PASSPHRASE_FILE_ENV, MemorySecrets

LABEL = "codex:ada@example.com"


@pytest.fixture
async def chatgpt() -> AsyncIterator[FakeChatGPT]:
    fake = await FakeChatGPT().start()
    yield fake
    await fake.stop()


def machine(tmp_path: Path, name: str, url: str) -> Path:
    home = tmp_path / name
    home.mkdir()
    (home / "config.toml").write_text(f'[store]\nurl = "{url}"\n\n{local_off()}')
    return home


async def command(home: Path, *args: str) -> int:
    """The CLI on ``home``'s machine: its own secret store (kept between its commands)."""
    return await asyncio.to_thread(cli.main, [args[0], "--home", str(home), *args[1:]])


async def test_accounts_quota_and_doctor_are_the_teams_from_any_machine(
    chatgpt: FakeChatGPT,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    codex_home = tmp_path / "codex"
    codex_home.mkdir()
    (codex_home / "auth.json").write_text(json.dumps(chatgpt.auth_file(chatgpt.issue())), encoding="utf-8")
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("the team's one passphrase, on every machine\n")
    for name, value in {
        "SWITCHBOARD_CODEX_BASE_URL": chatgpt.url,
        "SWITCHBOARD_OPENAI_AUTH_URL": chatgpt.root,
        "CODEX_HOME": str(codex_home),
        "SWITCHBOARD_STORE_PASSWORD": postgres_server.password,
        PASSPHRASE_FILE_ENV: str(passphrase),
    }.items():
        monkeypatch.setenv(name, value)
    one, two = machine(tmp_path, "one", postgres_url), machine(tmp_path, "two", postgres_url)
    stores = {one / "data": MemorySecrets(), two / "data": MemorySecrets()}
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: stores[data_dir])

    assert await command(one, "accounts", "import", "codex") == 0
    assert LABEL in capsys.readouterr().out
    store = await open_store(postgres_url, postgres_server.password)
    try:
        (row,) = await store.accounts.load()
        assert row.label == LABEL
        window: Any = (LABEL, "primary", "codex", 42.0, None, 18000, None, None, 0, 1.0, 42.0, 1.0)
        await store.accounts.save_quota([window])
    finally:
        await store.close()

    assert await command(two, "accounts", "list", "--json") == 0
    assert [a["label"] for a in json.loads(capsys.readouterr().out)] == [LABEL]
    assert await command(two, "quota", "--json") == 0
    assert [(w["label"], w["used_percent"]) for w in json.loads(capsys.readouterr().out)] == [(LABEL, 42.0)]

    await command(two, "doctor", "--json")
    (account,) = [f for f in json.loads(capsys.readouterr().out) if f["area"] == "account"]
    assert (account["subject"], account["verdict"]) == (LABEL, "ok"), account
