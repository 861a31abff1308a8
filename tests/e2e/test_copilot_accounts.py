"""GitHub Copilot accounts end to end, against the fake GitHub and Copilot API: the device flow
(pending, slow_down, and the stops), import of an editor's login, the token exchange renewed
ahead of expiry and on a 401, the editor headers and X-Initiator, Claude through /v1/messages,
the models list, quota snapshots, removal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import StartGateway
from fakes.github_copilot import USER_CODE, FakeCopilot

from gateway import GatewayServer
from gateway.auth.login_flows import FlowDoc
from gateway.store.secrets import MemorySecrets

TOKEN = "sb-admin-access-test-token-000000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def copilot() -> AsyncIterator[FakeCopilot]:
    fake = await FakeCopilot().start()
    yield fake
    await fake.stop()


async def _start(
    start_gateway: StartGateway,
    fake: FakeCopilot,
    tmp_path: Path,
    environ: dict[str, str] | None = None,
    secrets: MemorySecrets | None = None,
) -> GatewayServer:
    env = {
        "SWITCHBOARD_GITHUB_URL": fake.root,
        "SWITCHBOARD_GITHUB_API_URL": fake.root,
        "SWITCHBOARD_COPILOT_API_URL": fake.root,
    }
    return await start_gateway(
        "",
        env,
        admin_token=TOKEN,
        environ=environ or {"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
        home=tmp_path,
        secrets=secrets or MemorySecrets(),
    )


async def _post(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    async with session.post(url, json=body, headers=headers) as r:
        text = await r.text()
        return r.status, json.loads(text) if text.startswith(("{", "[")) else text, dict(r.headers)


async def _flow(session: aiohttp.ClientSession, gw: GatewayServer, flow: str) -> dict[str, Any]:
    for _ in range(200):
        async with session.get(f"{gw.url}/admin/accounts/login/{flow}", headers=ADMIN) as r:
            found: dict[str, Any] = await r.json()
        if found["status"] != "pending":
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("the sign-in never finished")


async def _sign_in(gw: GatewayServer) -> FlowDoc:
    """Started the way the app starts it: in process, where the user code may be shown."""
    assert gw.control is not None
    return (await gw.control.sign_in("copilot", "admin")).for_person()


def _fast_clock(gw: GatewayServer) -> _FastClock:
    """Seconds of the sign-in's waiting pass at once; the sleeps asked are kept."""
    assert gw.flows is not None
    clock = _FastClock()
    gw.flows._clock = clock
    return clock


async def test_device_flow_keeps_the_interval_slows_down_and_signs_in(
    start_gateway: StartGateway, copilot: FakeCopilot, tmp_path: Path
) -> None:
    copilot.polls = ["authorization_pending", "slow_down", "authorization_pending"]
    gw = await _start(start_gateway, copilot, tmp_path)
    clock = _fast_clock(gw)
    started = await _sign_in(gw)
    assert started["user_code"] == USER_CODE and started["verification_uri"].endswith("/login/device")
    async with aiohttp.ClientSession() as session:
        done = await _flow(session, gw, started["flow"])
        assert done["status"] == "done" and done["account"]["label"] == "copilot:octocat"
    assert clock.sleeps == [1, 1, 6, 6]  # interval 1 s; slow_down adds 5 s and keeps it


async def test_the_user_code_is_shown_only_to_the_person_at_the_machine(
    start_gateway: StartGateway, copilot: FakeCopilot, tmp_path: Path
) -> None:
    """SECURITY.md S36: no admin route starts a device flow or answers its code."""
    copilot.polls = ["authorization_pending"] * 50
    gw = await _start(start_gateway, copilot, tmp_path)
    _fast_clock(gw)
    async with aiohttp.ClientSession() as session:
        status, refused, _ = await _post(session, f"{gw.url}/admin/accounts/login/copilot", {}, ADMIN)
        assert status == 403 and "accounts login copilot" in refused["error"]["message"]
        started = await _sign_in(gw)
        async with session.get(f"{gw.url}/admin/accounts/login/{started['flow']}", headers=ADMIN) as r:
            seen = await r.text()
        async with session.get(f"{gw.url}/v1/status", headers=ADMIN) as r:
            seen += await r.text()
    assert r.status == 200 and '"status":"pending"' in seen.replace(" ", "")
    assert USER_CODE not in seen and "user_code" not in seen


@pytest.mark.parametrize(("outcome", "message"), [("expired_token", "expired"), ("access_denied", "cancelled")])
async def test_device_flow_stops_clearly(
    start_gateway: StartGateway, copilot: FakeCopilot, tmp_path: Path, outcome: str, message: str
) -> None:
    copilot.polls = ["authorization_pending", outcome]
    gw = await _start(start_gateway, copilot, tmp_path)
    _fast_clock(gw)
    started = await _sign_in(gw)
    async with aiohttp.ClientSession() as session:
        done = await _flow(session, gw, started["flow"])
        assert done["status"] == "failed" and message in done["error"]
        async with session.get(f"{gw.url}/admin/accounts", headers=ADMIN) as r:
            assert (await r.json())["accounts"] == []


async def test_editor_login_import_then_chat_messages_and_quota(
    start_gateway: StartGateway, copilot: FakeCopilot, tmp_path: Path
) -> None:
    folder = tmp_path / "xdg" / "github-copilot"
    folder.mkdir(parents=True)
    token = copilot.github_user("monalisa")
    # The editor is signed in to two GitHubs: the one configured (the fake, standing in for a
    # GitHub Enterprise server) is imported unless another host is named.
    app = "Iv1.b507a08c87ecfe98"
    (folder / "apps.json").write_text(
        json.dumps(
            {
                f"github.com:{app}": {"user": "hubot", "oauth_token": copilot.github_user("hubot"), "githubAppId": app},
                f"127.0.0.1:{app}": {"user": "monalisa", "oauth_token": token, "githubAppId": app},
            }
        )
    )
    secrets = MemorySecrets()
    gw = await _start(start_gateway, copilot, tmp_path, secrets=secrets)
    async with aiohttp.ClientSession() as session:
        status, data, _ = await _post(
            session, f"{gw.url}/admin/accounts/import/copilot", {"host": "ghe.example.com"}, ADMIN
        )
        assert status == 400 and "GitHub Copilot login for ghe.example.com" in data["error"]["message"]
        status, data, _ = await _post(session, f"{gw.url}/admin/accounts/import/copilot", {}, ADMIN)
        assert status == 201, data
        account = data["account"]
        assert (
            account["label"] == "copilot:monalisa"
            and account["plan"] == "individual"
            and account["origin"] == "import:editor"
        )
        assert json.loads(secrets.values[f"account:{account['id']}"]) == {"github_token": token}

        async with session.get(f"{gw.url}/v1/models") as r:
            ids = [m["id"] for m in (await r.json())["data"]]
        assert ids[:2] == ["copilot/gpt-4.1", "copilot/claude-sonnet-4"] and "copilot/o3-pro-preview" not in ids
        assert "copilot/text-embedding-3-small" not in ids

        # A user's own turn, with an image: X-Initiator user, the vision header, the editor headers.
        image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
        chat = {
            "model": "copilot/gpt-4.1",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "what is this?"}, image]}],
        }
        status, data, headers = await _post(session, f"{gw.url}/v1/chat/completions", chat)
        assert status == 200, data
        sent = copilot.requests_to("/chat/completions")[-1]
        assert sent.headers["X-Initiator"] == "user" and sent.headers["Copilot-Vision-Request"] == "true"
        assert sent.headers["Copilot-Integration-Id"] == "vscode-chat" and sent.headers["Editor-Version"].startswith(
            "vscode/"
        )
        assert sent.headers["Authorization"].startswith("Bearer tid=")
        assert "risk=subscription-terms" in headers["x-switchboard-route"]

        # A tool-loop follow-up: X-Initiator agent (no premium request spent).
        follow = {
            "model": "copilot/gpt-4.1",
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            ],
        }
        status, _, _ = await _post(session, f"{gw.url}/v1/chat/completions", follow)
        assert status == 200 and copilot.requests_to("/chat/completions")[-1].headers["X-Initiator"] == "agent"

        # Claude from an Anthropic client goes to /v1/messages (thinking kept); from a Responses
        # client too, since that model lists no /responses.
        messages = {
            "model": "copilot/claude-sonnet-4",
            "max_tokens": 2048,
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "messages": [{"role": "user", "content": "hi"}],
        }
        status, data, _ = await _post(session, f"{gw.url}/v1/messages", messages)
        assert status == 200 and data["content"][0]["type"] == "thinking"
        sent = copilot.requests_to("/v1/messages")[-1]
        assert sent.headers["Openai-Intent"] == "messages-proxy" and sent.headers["anthropic-version"] == "2023-06-01"
        status, data, _ = await _post(
            session, f"{gw.url}/v1/responses", {"model": "copilot/claude-sonnet-4", "input": "hi"}
        )
        assert status == 200 and len(copilot.requests_to("/v1/messages")) == 2

        # Quota: the user endpoint at sign-in, the response header after each answer.
        async with session.get(f"{gw.url}/admin/quota", headers=ADMIN) as r:
            windows = {w["window"]: w for w in (await r.json())["windows"] if w["label"] == "copilot:monalisa"}
        assert (
            windows["premium_interactions"]["used_percent"] == 20.0
            and windows["premium_interactions"]["entitlement"] == 300
        )
        assert windows["chat"]["unlimited"] is True

        async with session.delete(f"{gw.url}/admin/accounts/{account['id']}", headers=ADMIN) as r:
            assert r.status == 200
        assert f"account:{account['id']}" not in secrets.values


async def test_the_copilot_token_is_exchanged_once_for_many_requests_and_again_after_a_401(
    start_gateway: StartGateway, copilot: FakeCopilot, tmp_path: Path
) -> None:
    gw = await _start(start_gateway, copilot, tmp_path, environ={"GH_COPILOT_TOKEN": copilot.github_user("hubot")})
    chat = {"model": "copilot/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as session:
        status, data, _ = await _post(session, f"{gw.url}/admin/accounts/import/copilot", {}, ADMIN)
        assert status == 201 and data["account"]["origin"] == "import:editor"
        exchanges = copilot.exchanges
        assert exchanges == 1  # the token checked at import serves the model list and the requests
        answers = await asyncio.gather(*(_post(session, f"{gw.url}/v1/chat/completions", chat) for _ in range(30)))
        assert [a[0] for a in answers] == [200] * 30 and copilot.exchanges == exchanges
        copilot.expire_copilot_tokens()  # GitHub revoked it early: the next request gets 401
        answers = await asyncio.gather(*(_post(session, f"{gw.url}/v1/chat/completions", chat) for _ in range(20)))
        assert [a[0] for a in answers] == [200] * 20
        assert copilot.exchanges == exchanges + 1


async def test_an_account_without_copilot_is_refused_plainly(
    start_gateway: StartGateway, copilot: FakeCopilot, tmp_path: Path
) -> None:
    gw = await _start(start_gateway, copilot, tmp_path)
    async with aiohttp.ClientSession() as session:
        status, data, _ = await _post(
            session,
            f"{gw.url}/admin/accounts/import/copilot",
            {"token": copilot.github_user("nocopilot", copilot=False)},
            ADMIN,
        )
    assert status == 400 and "no Copilot access" in data["error"]["message"]


class _FastClock:
    """The system clock, except that sleeping records the seconds asked and returns at once."""

    def __init__(self) -> None:
        from gateway.clock import SystemClock

        self._real = SystemClock()
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self._real.time()

    def monotonic(self) -> float:
        return self._real.monotonic() + sum(self.sleeps)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


async def test_status_shows_each_account_with_its_risk_and_windows(
    start_gateway: StartGateway, copilot: FakeCopilot, tmp_path: Path
) -> None:
    from gateway.cli.status_text import render

    gw = await _start(start_gateway, copilot, tmp_path)
    async with aiohttp.ClientSession() as session:
        status, _, _ = await _post(
            session, f"{gw.url}/admin/accounts/import/copilot", {"token": copilot.github_user("octocat")}, ADMIN
        )
        assert status == 201
        async with session.get(f"{gw.url}/v1/status", headers=ADMIN) as r:
            doc = await r.json()
    (account,) = doc["accounts"]
    assert account["risk"] == "subscription-terms" and "terms of service" in account["risk_note"]
    text = render(doc)
    assert (
        "copilot:octocat" in text
        and "risk: subscription-terms" in text
        and "premium_interactions" in text
        and "20% used" in text
    )
