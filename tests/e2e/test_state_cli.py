"""The state commands against a real gateway process: keys made and revoked from the CLI while
it runs, LAN mode only with a key, and a hard crash losing no usage row that was answered more
than a second before."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp
from fakes.openai_upstream import FakeOpenAI
from test_cli import child_env, run, start

CHAT = {"model": "openai/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
PROVIDER = {"OPENAI_API_KEY": "sk-provider-key-for-cli-0001", "OPENAI_MODELS": "gpt-test"}


async def test_keys_from_the_cli_work_on_the_running_gateway_and_revoke_within_seconds(
    tmp_path: Path, upstream: FakeOpenAI
) -> None:
    upstream.accept(PROVIDER["OPENAI_API_KEY"])
    proc, url = await start(tmp_path, "--port", "0", "--require-keys", OPENAI_BASE_URL=upstream.url, **PROVIDER)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/v1/chat/completions", json=CHAT) as r:
                assert r.status == 401
            made = await asyncio.to_thread(
                run, tmp_path, "keys", "create", "--label", "laptop", "--limit", "requests_per_minute", "5"
            )
            assert made.returncode == 0 and "shown only this once" in made.stderr
            key = made.stdout.strip()
            headers = {"Authorization": f"Bearer {key}"}
            for _ in range(30):  # picked up within the refresh interval (2 s)
                async with session.post(f"{url}/v1/chat/completions", json=CHAT, headers=headers) as r:
                    if r.status == 200:
                        break
                await asyncio.sleep(0.2)
            assert r.status == 200
            listing = json.loads((await asyncio.to_thread(run, tmp_path, "keys", "list", "--json")).stdout)
            (entry,) = listing
            assert (
                entry["label"] == "laptop"
                and entry["limits"] == {"requests_per_minute": 5}
                and key not in json.dumps(listing)
            )
            revoked = await asyncio.to_thread(run, tmp_path, "keys", "revoke", entry["id"])
            assert revoked.returncode == 0
            assert (await asyncio.to_thread(run, tmp_path, "keys", "revoke", entry["id"])).returncode == 1
            for _ in range(30):
                async with session.post(f"{url}/v1/chat/completions", json=CHAT, headers=headers) as r:
                    if r.status == 401:
                        break
                await asyncio.sleep(0.2)
            assert r.status == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    text = run(tmp_path, "keys", "list").stdout
    assert "laptop" in text and "revoked" in text


async def test_lan_mode_needs_a_key_and_is_audited(tmp_path: Path) -> None:
    assert (await asyncio.to_thread(run, tmp_path, "keys", "create", "--label", "team")).returncode == 0
    proc, url = await start(tmp_path, "--host", "0.0.0.0", "--port", "0")
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url.replace("0.0.0.0", "127.0.0.1") + "/health") as r,
        ):
            assert r.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    conn = sqlite3.connect(tmp_path / "data" / "switchboard.db")
    actions = [row[0] for row in conn.execute("SELECT action FROM audit ORDER BY seq")]
    assert actions == ["key.created", "gateway.started"]
    proc, url = await start(tmp_path, "--port", "0")
    proc.send_signal(signal.SIGTERM)
    await proc.wait()
    actions = [row[0] for row in conn.execute("SELECT action FROM audit ORDER BY seq")]
    assert actions[2:] == ["gateway.started", "lan_mode.off", "config.bind_changed"]
    # The config file edited between starts (by anyone): the next start says so.
    config = tmp_path / "config.toml"
    config.write_text(
        config.read_text() + '\n[app]\ntheme = "dark"\n' if config.exists() else '[app]\ntheme = "dark"\n'
    )
    proc, url = await start(tmp_path, "--port", "0")
    proc.send_signal(signal.SIGTERM)
    await proc.wait()
    rows = list(conn.execute("SELECT action, payload FROM audit WHERE seq > 4 ORDER BY seq"))
    assert [a for a, _ in rows if a == "config.changed"] == ["config.changed"]
    assert json.loads(next(p for a, p in rows if a == "config.changed"))["file"] == "config.toml"
    assert run(tmp_path, "audit", "verify").returncode == 0


async def test_a_crash_loses_no_row_answered_a_second_before(tmp_path: Path, upstream: FakeOpenAI) -> None:
    upstream.accept(PROVIDER["OPENAI_API_KEY"])
    proc, url = await start(tmp_path, "--port", "0", OPENAI_BASE_URL=upstream.url, **PROVIDER)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(50):
                async with session.post(f"{url}/v1/chat/completions", json=CHAT) as r:
                    assert r.status == 200
        await asyncio.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGKILL)  # no shutdown, no flush
        await proc.wait()
    conn = sqlite3.connect(tmp_path / "data" / "switchboard.db")
    assert conn.execute("SELECT count(*) FROM usage WHERE kind = 'request'").fetchone()[0] == 50
    usage = run(tmp_path, "usage")
    assert "Requests in all: 50 (50 successful)" in usage.stdout


def test_a_provider_key_kept_in_the_secret_store(tmp_path: Path) -> None:
    """Keys stored with ``providers set-key`` (from stdin, one per line) make a provider without
    any environment variable; removing them takes it away; both are audited by provider id only."""
    secret = "sk-stored-in-the-keychain-000000000001"
    env = child_env(tmp_path)
    stored = subprocess.run(
        [sys.executable, "-m", "gateway", "providers", "set-key", "groq"],
        input=f"{secret}\n{secret}\ngsk_second_key_00000000000002\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stored.returncode == 0, stored.stderr
    assert "Stored 2 key(s) for groq" in stored.stdout
    listing = run(tmp_path, "providers")
    assert "groq" in listing.stdout and "from secret store" in listing.stdout and secret not in listing.stdout
    assert "sk-s****0001" in listing.stdout
    assert run(tmp_path, "providers", "remove-key", "groq").returncode == 0
    assert "groq" not in run(tmp_path, "providers").stdout
    assert run(tmp_path, "providers", "remove-key", "groq").returncode == 1
    conn = sqlite3.connect(tmp_path / "data" / "switchboard.db")
    events = conn.execute("SELECT action, payload FROM audit ORDER BY seq").fetchall()
    assert [e[0] for e in events] == ["provider.key_stored", "provider.key_removed"]
    assert secret not in str(events)
    kept = tmp_path / "data" / "secrets.json"  # where there is no keychain (as on CI)
    assert not kept.exists() or kept.stat().st_mode & 0o777 == 0o600
