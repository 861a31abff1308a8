"""A ChatGPT subscription end to end, against the fake auth server and Codex backend: import the
Codex CLI's login, chat through every client protocol, renew an expired token once for 50
requests, read the quota, rest a used-up account, remove it and its tokens."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import StartGateway
from fakes.chatgpt import FakeChatGPT, Tokens

from gateway import GatewayServer
from gateway.store.secrets import MemorySecrets

TOKEN = "sb-admin-access-test-token-000000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
MODEL = "codex/gpt-5-codex"


@pytest.fixture
async def chatgpt() -> Any:
    fake = await FakeChatGPT().start()
    yield fake
    await fake.stop()


def _env(fake: FakeChatGPT) -> dict[str, str]:
    return {"SWITCHBOARD_CODEX_BASE_URL": fake.url, "SWITCHBOARD_OPENAI_AUTH_URL": fake.root}


def _codex_home(tmp_path: Path, fake: FakeChatGPT, *, expired: bool = False) -> tuple[Path, Tokens]:
    tokens = fake.issue(expired=expired)
    folder = tmp_path / "codex-home"
    folder.mkdir(exist_ok=True)
    path = folder / "auth.json"
    path.write_text(json.dumps(fake.auth_file(tokens, agent_identity="keep-me")), encoding="utf-8")
    return path, tokens


async def _start(
    start_gateway: StartGateway, fake: FakeChatGPT, tmp_path: Path, secrets: MemorySecrets | None = None
) -> GatewayServer:
    env = {"CODEX_HOME": str(tmp_path / "codex-home")}
    return await start_gateway(
        "", _env(fake), admin_token=TOKEN, environ=env, home=tmp_path, secrets=secrets or MemorySecrets()
    )


async def _post(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    async with session.post(url, json=body, headers=headers) as r:
        text = await r.text()
        try:
            data = json.loads(text)
        except ValueError:
            data = text
        return r.status, data, dict(r.headers)


async def _import(session: aiohttp.ClientSession, gw: GatewayServer, **body: Any) -> dict[str, Any]:
    status, data, _ = await _post(session, f"{gw.url}/admin/accounts/import/codex", body, ADMIN)
    assert status == 201, data
    account: dict[str, Any] = data["account"]
    return account


async def test_import_then_every_client_protocol_reaches_the_subscription(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    path, _ = _codex_home(tmp_path, chatgpt)
    before = path.read_bytes()
    gw = await _start(start_gateway, chatgpt, tmp_path)
    async with aiohttp.ClientSession() as session:
        account = await _import(session, gw)
        assert (
            account["label"] == "codex:ada@example.com"
            and account["plan"] == "plus"
            and account["subject"] == "acct_fake_0001"
        )
        assert path.read_bytes() == before  # never rewritten unless asked to keep both in step

        async with session.get(f"{gw.url}/v1/models") as r:
            ids = [m["id"] for m in (await r.json())["data"]]
        assert "codex/gpt-5-codex" in ids and "codex/gpt-5" in ids and "codex/codex-internal-preview" not in ids

        # OpenAI Chat, whole: the answer is gathered from the stream the backend always sends.
        chat = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "temperature": 0.2, "max_tokens": 50}
        status, data, headers = await _post(session, f"{gw.url}/v1/chat/completions", chat)
        assert status == 200, data
        assert data["choices"][0]["message"]["content"] == "Hello from the Responses API!"
        assert (
            "key=codex:ada@example.com" in headers["x-switchboard-route"]
            and "risk=subscription-terms" in headers["x-switchboard-route"]
        )
        sent = chatgpt.requests_to("/codex/responses")[-1]
        assert sent.headers["ChatGPT-Account-Id"] == "acct_fake_0001" and sent.headers["originator"] == "codex_cli_rs"
        assert sent.json["stream"] is True and sent.json["store"] is False and "temperature" not in sent.json
        assert sent.json["prompt_cache_key"] and sent.headers["session_id"]

        # OpenAI Chat, streamed.
        async with session.post(f"{gw.url}/v1/chat/completions", json={**chat, "stream": True}) as r:
            assert r.status == 200
            streamed = await r.text()
        assert '"content":"Hello"' in streamed and streamed.rstrip().endswith("data: [DONE]")

        # Responses (the backend's own protocol), whole and streamed; previous_response_id is not sent.
        resp = {
            "model": MODEL,
            "input": "hi",
            "previous_response_id": "resp_x",
            "stream_options": {"include_usage": True},
        }
        status, data, _ = await _post(session, f"{gw.url}/v1/responses", resp)
        assert (
            status == 200
            and data["object"] == "response"
            and data["output"][-1]["content"][0]["text"] == "Hello from the Responses API!"
        )
        assert "previous_response_id" not in chatgpt.requests_to("/codex/responses")[-1].json

        # Anthropic Messages and Ollama.
        status, data, _ = await _post(
            session,
            f"{gw.url}/v1/messages",
            {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert status == 200 and data["content"][0]["text"] == "Hello from the Responses API!"
        status, data, _ = await _post(
            session,
            f"{gw.url}/api/chat",
            {"model": MODEL, "stream": False, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert status == 200 and data["message"]["content"] == "Hello from the Responses API!"

        # Usage came back with every answer, counted against the account.
        await gw.gateway.counted()
        assert gw.state is not None
        await asyncio.to_thread(gw.state.db.writer.flush)
        rows = await gw.state.db.read(
            lambda c: c.execute("SELECT account, prompt, completion FROM usage WHERE kind = 'request'").fetchall()
        )
        assert rows and all(r == ("codex:ada@example.com", 15, 9) for r in rows)

        # The quota windows from the headers and the stream event.
        async with session.get(f"{gw.url}/admin/quota", headers=ADMIN) as r:
            windows = {w["window"]: w for w in (await r.json())["windows"] if w["label"] == "codex:ada@example.com"}
        assert windows["primary"]["window_seconds"] == 18000 and windows["secondary"]["window_seconds"] == 604800
        assert windows["primary"]["used_percent"] in (12.5, 13.0) and windows["secondary"]["used_percent"] == 40.0


async def test_fifty_requests_on_an_expired_token_renew_it_once_and_persist_the_rotation(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    """SECURITY.md S37; the Codex CLI's file is kept in step when asked (unknown keys kept, 0600)."""
    path, old = _codex_home(tmp_path, chatgpt, expired=True)
    secrets = MemorySecrets()
    gw = await _start(start_gateway, chatgpt, tmp_path, secrets)
    chatgpt.refresh_delay = 0.3
    async with aiohttp.ClientSession() as session:
        account = await _import(session, gw, sync=True)
        chat = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
        answers = await asyncio.gather(*(_post(session, f"{gw.url}/v1/chat/completions", chat) for _ in range(50)))
    assert [a[0] for a in answers] == [200] * 50
    assert chatgpt.refresh_calls == 1
    stored = json.loads(secrets.values[f"account:{account['id']}"])
    assert stored["refresh_token"] != old["refresh_token"] and stored["refresh_token"] in chatgpt.live_refresh
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["tokens"]["refresh_token"] == stored["refresh_token"] and written["agent_identity"] == "keep-me"
    assert written["tokens"]["account_id"] == "acct_fake_0001" and written["last_refresh"].endswith("Z")
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_revoked_login_marks_the_account_and_fails_over_at_once(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    _codex_home(tmp_path, chatgpt, expired=True)
    gw = await _start(start_gateway, chatgpt, tmp_path)
    async with aiohttp.ClientSession() as session:
        await _import(session, gw)
        chatgpt.revoke_all()
        chat = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
        first = await _post(session, f"{gw.url}/v1/chat/completions", chat)
        assert first[0] == 401 and "sign in again" in first[1]["error"]["message"]
        calls = chatgpt.refresh_calls
        again = await asyncio.gather(*(_post(session, f"{gw.url}/v1/chat/completions", chat) for _ in range(10)))
        assert {a[0] for a in again} == {503}
        assert "needs_sign_in" in again[0][1]["error"]["message"]
        assert chatgpt.refresh_calls == calls  # no retry storm
        async with session.get(f"{gw.url}/admin/accounts", headers=ADMIN) as r:
            (listed,) = (await r.json())["accounts"]
        assert listed["state"] == "needs_sign_in" and listed["risk"] == "subscription-terms"
        async with session.get(f"{gw.url}/admin/audit", headers=ADMIN) as r:
            actions = [e["action"] for e in (await r.json())["events"]]
        assert "account.imported" in actions and "oauth.refresh_failed" in actions


async def test_a_used_up_account_rests_until_its_window_resets_and_the_next_one_serves(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    gw = await _start(start_gateway, chatgpt, tmp_path)
    async with aiohttp.ClientSession() as session:
        for account_id, email in (("acct_one", "one@example.com"), ("acct_two", "two@example.com")):
            path = tmp_path / f"{account_id}.json"
            path.write_text(
                json.dumps(chatgpt.auth_file(chatgpt.issue(account_id=account_id, email=email))), encoding="utf-8"
            )
            await _import(session, gw, path=str(path))
        chatgpt.exhausted.add("acct_one")
        served = set()
        for n in range(4):  # four conversations: no affinity, so rotation offers both accounts
            chat = {"model": MODEL, "messages": [{"role": "user", "content": f"hi {n}"}]}
            status, data, headers = await _post(session, f"{gw.url}/v1/chat/completions", chat)
            assert status == 200, data
            served.add(headers["x-switchboard-route"].split("key=")[1].split(";")[0])
        assert served == {"codex:two@example.com"}
        # The used-up account is benched until its window resets (hours, not seconds) ...
        cred = next(c for c in gw.gateway._pools["codex"].credentials if c.label == "codex:one@example.com")
        snapshot = gw.gateway.router.health.snapshot(cred)
        benched = snapshot["benched"]
        assert snapshot["health"] == "benched" and benched is not None and benched["seconds_left"] > 3600
        # ... and not even tried meanwhile.
        status, _, headers = await _post(
            session, f"{gw.url}/v1/chat/completions", {**chat, "messages": [{"role": "user", "content": "new"}]}
        )
        assert status == 200 and headers["x-switchboard-attempts"] == "1"
        async with session.get(f"{gw.url}/admin/quota", headers=ADMIN) as r:
            windows = {(w["label"], w["window"]): w for w in (await r.json())["windows"]}
        assert windows[("codex:one@example.com", "primary")]["used_percent"] == 100.0


async def test_removing_an_account_removes_its_tokens_and_its_routes(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    _codex_home(tmp_path, chatgpt)
    secrets = MemorySecrets()
    gw = await _start(start_gateway, chatgpt, tmp_path, secrets)
    async with aiohttp.ClientSession() as session:
        account = await _import(session, gw)
        assert f"account:{account['id']}" in secrets.values
        async with session.delete(f"{gw.url}/admin/accounts/{account['id']}", headers=ADMIN) as r:
            assert r.status == 200
        assert f"account:{account['id']}" not in secrets.values
        await gw.gateway.sync.listed("codex", 5)
        status, data, _ = await _post(
            session, f"{gw.url}/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
        )
        message = data["error"]["message"]
        assert status == 503 and message.startswith(f"no route can serve '{MODEL}': no codex account is connected")
        assert "Accounts page" in message and "python -m" not in message  # the app's Overview shows it too
        assert not gw.gateway._pools["codex"].credentials
        async with session.get(f"{gw.url}/admin/accounts", headers=ADMIN) as r:
            assert (await r.json())["accounts"] == []


async def test_connecting_an_account_needs_the_admin_and_a_same_origin_caller(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    """SECURITY.md S11: no admin credential, or a foreign Origin, gets 403/401 and nothing changes."""
    _codex_home(tmp_path, chatgpt)
    secrets = MemorySecrets()
    gw = await _start(start_gateway, chatgpt, tmp_path, secrets)
    async with aiohttp.ClientSession() as session:
        for path in ("/admin/accounts/import/codex", "/admin/accounts/login/codex", "/admin/accounts/login/copilot"):
            status, _, _ = await _post(session, f"{gw.url}{path}", {})
            assert status == 401
            status, _, _ = await _post(session, f"{gw.url}{path}", {}, {**ADMIN, "Origin": "https://evil.example"})
            assert status == 403
    assert not [name for name in secrets.values if name.startswith("account:")]
