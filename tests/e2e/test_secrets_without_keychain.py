"""SECURITY.md S31 with real processes on a machine whose keychain fails (keyring's 'fail'
backend, as on a headless server without Secret Service), opted in to the encrypted file: a
provider key stored, a client key made, traffic served, a sign-in that opens a browser — and
then no canary in any file of the state, in any process's arguments, or in the environment of a
child process (the passphrase variable is taken out before any child starts)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import psutil
import pytest
from fakes.openai_upstream import FakeOpenAI
from test_cli import child_env, start

PROVIDER_KEY = "sk-canaryNOKEYCHAINprovider8c2d"
PASSPHRASE = "canary-PASSPHRASE-b71e0f3a"
NO_KEYCHAIN = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "SWITCHBOARD_SECRETS_PASSPHRASE": PASSPHRASE}


def gateway_cli(home: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        input=stdin,
        env=child_env(home, **NO_KEYCHAIN, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def every_argv() -> str:
    seen = []
    for proc in psutil.process_iter(["cmdline"]):
        seen.append(" ".join(proc.info["cmdline"] or ()))
    return "\n".join(seen)


async def test_secrets_stay_encrypted_on_disk_and_out_of_argv_and_child_environments(tmp_path: Path) -> None:
    upstream = await FakeOpenAI(key=PROVIDER_KEY).start()
    browser = tmp_path / "browser"
    saw = tmp_path / "browser-saw.json"
    browser.write_text(
        f"#!{sys.executable}\nimport json, os, sys\nopen({str(saw)!r}, 'w').write(json.dumps({{'argv': sys.argv, "
        f"'env': dict(os.environ)}}))\n"
    )
    browser.chmod(0o700)
    try:
        stored = await asyncio.to_thread(
            gateway_cli, tmp_path, "providers", "set-key", "openai", stdin=PROVIDER_KEY + "\n"
        )
        assert stored.returncode == 0 and "encrypted with your passphrase" in stored.stdout, stored.stderr
        made = await asyncio.to_thread(gateway_cli, tmp_path, "keys", "create", "--label", "team")
        client_key = made.stdout.strip()
        assert made.returncode == 0 and client_key.startswith("sk-sb-"), made.stderr
        canaries = (PROVIDER_KEY, PASSPHRASE, client_key)

        proc, url = await start(
            tmp_path,
            "--port",
            "0",
            "--require-keys",
            OPENAI_BASE_URL=upstream.url,
            OPENAI_MODELS="gpt-test",
            **NO_KEYCHAIN,
        )
        sign_in = None
        try:
            chat = {"model": "openai/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{url}/v1/chat/completions", json=chat, headers={"Authorization": f"Bearer {client_key}"}
                ) as r,
            ):
                assert r.status == 200, await r.text()  # the pepper and the provider key came out of the encrypted file
            # A sign-in started from the CLI opens the browser: a child process of ours.
            sign_in = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway",
                "accounts",
                "login",
                "codex",
                env=child_env(
                    tmp_path, **NO_KEYCHAIN, BROWSER=str(browser), SWITCHBOARD_OPENAI_AUTH_URL="http://127.0.0.1:9"
                ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(150):
                if saw.exists():
                    break
                await asyncio.sleep(0.1)
            listing = every_argv()  # during the session: gateway, CLI and browser alive or just gone
        finally:
            if sign_in is not None and sign_in.returncode is None:
                sign_in.send_signal(signal.SIGTERM)
                await sign_in.wait()
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
    finally:
        await upstream.stop()

    child = json.loads(saw.read_text())
    assert child["argv"][1].startswith("http://127.0.0.1:9/oauth/authorize?")
    assert "SWITCHBOARD_SECRETS_PASSPHRASE" not in child["env"]
    for canary in canaries:
        assert canary not in listing, "a secret is in some process's arguments"
        assert canary not in json.dumps(child), "a secret reached a child process"
    state = [p for p in tmp_path.rglob("*") if p.is_file() and p not in (saw, browser)]
    assert any(p.name == "secrets.enc" for p in state) and not any(p.name == "secrets.json" for p in state)
    assert any(p.name == "switchboard.db" for p in state)
    for path in state:
        data = path.read_bytes()
        for canary in canaries:
            assert canary.encode() not in data, f"{canary[:12]}… is readable in {path.relative_to(tmp_path)}"
    assert os.stat(tmp_path / "data" / "secrets.enc").st_mode & 0o777 == 0o600


async def test_without_a_keychain_or_passphrase_the_start_says_the_file_is_not_encrypted(tmp_path: Path) -> None:
    proc, _ = await start(tmp_path, "--port", "0", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    try:
        assert proc.stdout is not None and proc.stderr is not None
        banner = b""
        while b"secrets:" not in banner:
            banner += await asyncio.wait_for(proc.stdout.readline(), 10)
        warned = b""
        while b"secrets are kept" not in warned:
            warned = await asyncio.wait_for(proc.stderr.readline(), 10)
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    for said in (banner.decode(), warned.decode()):
        assert (
            "secrets.json, readable only by you but not encrypted" in said
            and "SWITCHBOARD_SECRETS_PASSPHRASE_FILE" in said
        )


@pytest.mark.parametrize(
    "broken",
    [b'{"jwt-secret": "ab', b"\xff\xfe not text", b"[1, 2, 3]", b""],
    ids=["cut-short", "not-utf8", "no-object", "empty"],
)
def test_an_unreadable_secrets_file_is_one_line_and_left_as_it_is(tmp_path: Path, broken: bytes) -> None:
    """Issue 20, item 11 (SECURITY.md S31, B45): no traceback, no new secrets over the old file."""
    (tmp_path / "data").mkdir(mode=0o700)
    secrets_file = tmp_path / "data" / "secrets.json"
    secrets_file.write_bytes(broken)
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--home", str(tmp_path), "--port", "0"],
        env=child_env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "listening" not in done.stdout
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert str(secrets_file) in done.stderr and "restore it from a backup, or move it aside" in done.stderr
    assert secrets_file.read_bytes() == broken
