"""SECURITY.md S29: plant canary secrets, run a traffic mix with failures (an upstream that echoes
the key it was sent into its error bodies, with ``?key=`` URLs), then look for every canary in
every file of the state folder (database, WAL, shared memory, anchor), the log, every response
body and header, the metrics and the audit rows. Expected: none, anywhere.

The secrets themselves live in the secret store, here the in-memory stand-in for the keychain.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import aiohttp
from argon2 import PasswordHasher
from conftest import StartGateway
from fakes.openai_upstream import FakeOpenAI

from gateway.auth.passwords import Passwords
from gateway.store.secrets import MemorySecrets

PROVIDER_KEY = "sk-canaryPROVIDERkey7f3a9c1e5b"
PASSWORD = "canary-PASSWORD-6d2b8e4f"
TOKEN = "sb-admin-canaryADMINtoken0000000000000000"


async def test_no_secret_is_written_or_answered_anywhere(start_gateway: StartGateway, tmp_path: Path) -> None:
    upstream = await FakeOpenAI(key=PROVIDER_KEY).start()
    secrets = MemorySecrets()
    log_file = tmp_path / "gateway.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger("gateway")
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    seen: list[tuple[str, bytes]] = []
    try:
        config = (
            f'[providers.fake]\nkind = "openai-compatible"\nbase_url = "{upstream.url}"\napi_key_env = "FAKE_KEY"\n'
            "read_timeout = 2\n[server]\nrequire_keys = true\n"
        )
        gateway = await start_gateway(
            config,
            {"FAKE_KEY": PROVIDER_KEY},
            admin_token=TOKEN,
            secrets=secrets,
            admin_password=PASSWORD,
            passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)),
        )
        admin = {"Authorization": f"Bearer {TOKEN}"}
        chat = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}

        async with aiohttp.ClientSession() as session:

            async def send(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
                async with session.request(method, f"{gateway.url}{path}", json=body, headers=headers or {}) as r:
                    data = await r.read()
                    seen.append((f"{method} {path}", data + str(dict(r.headers)).encode()))
                    return await r.json(content_type=None) if data[:1] in (b"{", b"[") else data

            made = await send("POST", "/admin/keys", {"label": "canary"}, admin)
            client_key = made["key"]
            user = {"Authorization": f"Bearer {client_key}"}
            login = await send("POST", "/admin/auth/login", {"username": "admin", "password": PASSWORD})
            refreshed = await send("POST", "/admin/auth/refresh", {"refresh_token": login["refresh_token"]})
            await send("POST", "/v1/chat/completions", chat, user)
            await send("POST", "/v1/chat/completions", {**chat, "stream": True}, user)
            await send("POST", "/v1/messages", {**chat, "max_tokens": 9}, {"x-api-key": client_key})
            echo = f"Incorrect API key provided: {PROVIDER_KEY}. See https://x.example/v1?key={PROVIDER_KEY}"
            for status in (500, 401):  # (a 401 benches the only key: it goes last)
                upstream.then(upstream.failure(status, "invalid_request_error", echo, {"retry-after": "1"}))
                await send("POST", "/v1/chat/completions", chat, user)
            await send("POST", "/v1/chat/completions", chat, {"Authorization": f"Bearer {client_key[:-3]}abc"})
            await send("POST", "/v1/chat/completions", chat, {"x-api-key": client_key[:-1]})
            await send("GET", "/v1/status", None, {"Authorization": f"Bearer {refreshed['access_token']}"})
            await send("GET", "/admin/keys", None, admin)
            await send("GET", "/admin/usage?view=recent", None, admin)
            await send("GET", "/admin/audit", None, admin)
            await send("GET", "/metrics", None, user)
            await send("POST", f"/admin/keys/{made['id']}/revoke", {}, admin)
            await send("POST", "/v1/chat/completions", chat, user)
        await gateway.stop()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
        await upstream.stop()

    canaries = {
        "provider key": PROVIDER_KEY,
        "client key": client_key,
        "client key secret": client_key.split("_")[1],
        "admin password": PASSWORD,
        "refresh token": refreshed["refresh_token"],
        **{f"secret {name}": value for name, value in secrets.values.items()},
    }
    assert len(secrets.values) == 3  # pepper, JWT secret, anchor key
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != log_file]
    assert any(p.name.endswith("-wal") for p in files) or any(p.name.endswith(".db") for p in files)
    places = {str(p.relative_to(tmp_path)): p.read_bytes() for p in files}
    places["log"] = log_file.read_bytes()
    for index, (path, answer) in enumerate(seen):
        places[f"response {index} to {path}"] = answer
    # the echoes came back masked: in the two answers, and in /v1/status as the model's last failure
    assert sum(b"Incorrect API key provided: ****" in answer for _, answer in seen) == 3
    # The two answers whose job is to hand over a secret, once.
    handed_over = {
        "client key": "to POST /admin/keys",
        "client key secret": "to POST /admin/keys",
        "refresh token": "to POST /admin/auth/refresh",
    }
    for name, canary in canaries.items():
        for place, data in places.items():
            if place.startswith("response") and place.endswith(handed_over.get(name, "-")):
                continue
            assert canary.encode() not in data, f"the {name} is in {place}"
    # Our own secrets are hex: their raw bytes must not be on disk either.
    for name, value in secrets.values.items():
        for place, data in places.items():
            if place.startswith("response") or place == "log":
                continue
            assert bytes.fromhex(value) not in data, f"{name} (raw) is in {place}"
