"""The account commands against a real gateway process: a Codex login imported from the CLI is
served by the running gateway within seconds, ``quota`` shows its windows, and ``accounts
remove`` takes it out again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
from fakes.chatgpt import FakeChatGPT
from test_cli import run, start

CHAT = {"model": "codex/gpt-5-codex", "messages": [{"role": "user", "content": "hi"}]}


async def _until(session: aiohttp.ClientSession, url: str, wanted: int) -> int:
    status = 0
    for _ in range(50):  # the gateway picks up account changes within its refresh interval (2 s)
        async with session.post(f"{url}/v1/chat/completions", json=CHAT) as r:
            status = r.status
        if status == wanted:
            break
        await asyncio.sleep(0.2)
    return status


async def test_accounts_and_quota_from_the_cli(tmp_path: Path) -> None:
    fake = await FakeChatGPT().start()
    try:
        codex_home = tmp_path / "codex"
        codex_home.mkdir()
        (codex_home / "auth.json").write_text(json.dumps(fake.auth_file(fake.issue())), encoding="utf-8")
        env = {
            "SWITCHBOARD_CODEX_BASE_URL": fake.url,
            "SWITCHBOARD_OPENAI_AUTH_URL": fake.root,
            "CODEX_HOME": str(codex_home),
        }
        proc, url = await start(tmp_path, "--port", "0", **env)
        try:
            imported = await asyncio.to_thread(run, tmp_path, "accounts", "import", "codex", **env)
            assert imported.returncode == 0, imported.stderr
            assert "Connected codex:ada@example.com (plus)" in imported.stdout and "terms of service" in imported.stdout
            async with aiohttp.ClientSession() as session:
                assert await _until(session, url, 200) == 200

                listing = json.loads(
                    (await asyncio.to_thread(run, tmp_path, "accounts", "list", "--json", **env)).stdout
                )
                assert [(a["label"], a["state"], a["origin"]) for a in listing] == [
                    ("codex:ada@example.com", "ok", "import:codex-cli")
                ]

                await asyncio.sleep(0.5)  # the quota rows are written with the next batch
                quota = await asyncio.to_thread(run, tmp_path, "quota")
                assert quota.returncode == 0, quota.stderr
                assert "codex:ada@example.com" in quota.stdout and "primary (5 hours)" in quota.stdout
                assert "secondary (weekly)" in quota.stdout and "40.0%" in quota.stdout

                removed = await asyncio.to_thread(run, tmp_path, "accounts", "remove", listing[0]["id"], **env)
                assert removed.returncode == 0 and "Removed codex:ada@example.com" in removed.stdout
                assert await _until(session, url, 503) == 503
            missing = await asyncio.to_thread(
                run, tmp_path, "accounts", "import", "copilot", XDG_CONFIG_HOME=str(tmp_path / "none")
            )
            assert missing.returncode == 2 and "GitHub Copilot login for" in missing.stderr
        finally:
            proc.terminate()
            await proc.wait()
    finally:
        await fake.stop()
