"""``doctor`` and subscription accounts: a signed-in account whose quota the provider reads is ok;
one whose sign-in the provider no longer accepts (its tokens revoked: every call answers 401) is
broken, named, with the fix (sign in again), and the exit code says so."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_ports, local_off
from fakes.chatgpt import FakeChatGPT

from gateway.cli import main as cli
from gateway.store.secrets import MemorySecrets

LABEL = "codex:ada@example.com"


@pytest.fixture
async def chatgpt() -> AsyncIterator[FakeChatGPT]:
    fake = await FakeChatGPT().start()
    yield fake
    await fake.stop()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chatgpt: FakeChatGPT) -> Path:
    """A state folder with the fake's Codex login imported, its secrets kept across commands."""
    (tmp_path / "config.toml").write_text(f"[server]\nport = {free_ports(1)[0]}\n\n{local_off()}")
    secrets = MemorySecrets()
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: secrets)
    codex_home = tmp_path / "codex"
    codex_home.mkdir()
    (codex_home / "auth.json").write_text(json.dumps(chatgpt.auth_file(chatgpt.issue())), encoding="utf-8")
    monkeypatch.setenv("SWITCHBOARD_CODEX_BASE_URL", chatgpt.url)
    monkeypatch.setenv("SWITCHBOARD_OPENAI_AUTH_URL", chatgpt.root)
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path))
    for name in ("OPENAI_API_KEY", "GROQ_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


async def run(home: Path, *args: str) -> int:
    """A command over ``home`` (SWITCHBOARD_HOME), off the event loop that serves the fake (it runs its own)."""
    return await asyncio.to_thread(cli.main, list(args))


async def account_finding(home: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    assert await run(home, "accounts", "import", "codex") == 0
    capsys.readouterr()
    code = await run(home, "doctor", "--json")
    found = [f for f in json.loads(capsys.readouterr().out) if f["area"] == "account"]
    assert len(found) == 1
    return code, found[0]


async def test_a_signed_in_account_reads_its_quota(
    home: Path, chatgpt: FakeChatGPT, capsys: pytest.CaptureFixture[str]
) -> None:
    code, found = await account_finding(home, capsys)
    assert code == 0
    assert (found["subject"], found["verdict"]) == (LABEL, "ok")
    assert "quota was read" in found["words"]


async def test_a_revoked_sign_in_is_broken_with_the_fix(
    home: Path, chatgpt: FakeChatGPT, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(home, "accounts", "import", "codex") == 0
    chatgpt.revoke_all()  # its access token has not lapsed yet, but nothing accepts it: 401 everywhere
    capsys.readouterr()
    assert await run(home, "doctor", "--json") == 1
    found = next(f for f in json.loads(capsys.readouterr().out) if f["area"] == "account")
    assert (found["subject"], found["verdict"], found["fix"]) == (LABEL, "broken", "sign_in_chatgpt")
    assert LABEL in found["words"] and found["advice"] == "Sign in to it again."
    assert await run(home, "doctor") == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"BROKEN  {LABEL} cannot be used") and "codex login" in line for line in lines)
