"""SECURITY.md S30, B44: an auth server that refuses by repeating the request it refused — the
refresh token, the authorization code and its PKCE verifier, the device code, the GitHub token —
has none of it repeated by the gateway: not in any answer to a client, not in the log (its
records, and a log file), not in the audit log nor anywhere in the state folder. Only the
refusal's status and its error code are said. Every OAuth call is tried: ChatGPT's refresh and
code exchange, GitHub's device flow (the code, then the polling) and the Copilot token exchange.

The canaries have no credential shape, so only keeping the auth server's words out catches them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from conftest import StartGateway, free_ports
from fakes.auth_echo import SHAPES
from fakes.chatgpt import FakeChatGPT, Tokens
from fakes.github_copilot import FakeCopilot

from gateway import GatewayServer
from gateway.errors import InvalidRequest
from gateway.store.secrets import MemorySecrets

TOKEN = "sb-admin-access-test-token-000000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CANARY_REFRESH = "canaryREFRESHtoken-7b3e9d1f5a2c"
CANARY_GITHUB = "canaryGITHUBtoken-2d8f4a6c1e9b"
CANARY_DEVICE = "canaryDEVICEcode-5c1a7e3b9f2d"
CANARY_CODE = "canaryCODE-"  # the start of every authorization code the fake issues


class Sinks:
    """Everything the gateway said: its answers (collected by the test), its log records, a log
    file, its audit rows and every file of its state folder."""

    def __init__(self, caplog: pytest.LogCaptureFixture, log_file: Path) -> None:
        self._caplog = caplog
        self._log_file = log_file
        self.answers: list[str] = []

    async def ask(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        async with session.request(method, url, json=body, headers=headers) as r:
            text = await r.text()
        self.answers.append(f"{method} {urlsplit(url).path} -> {r.status} {text}")
        return r.status, text

    async def said(self, gw: GatewayServer) -> dict[str, str]:
        assert gw.state is not None
        await asyncio.to_thread(gw.state.db.writer.flush)
        rows = await gw.state.db.read(lambda c: c.execute("SELECT actor, action, payload FROM audit").fetchall())
        places = {f"answer {n}": text for n, text in enumerate(self.answers)}
        places["log records"] = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in self._caplog.records)
        places["log file"] = self._log_file.read_text(encoding="utf-8", errors="replace")
        places["audit rows"] = json.dumps(rows)
        for path in gw.state.data_dir.rglob("*"):
            if path.is_file():
                places[str(path)] = path.read_bytes().decode("latin-1")
        return places

    async def check(self, gw: GatewayServer, *canaries: str) -> str:
        """Asserts no canary was said anywhere; everything said, for further checks."""
        places = await self.said(gw)
        for canary in canaries:
            for place, text in places.items():
                assert canary not in text, f"{canary} is in {place}"
        return "\n".join(places.values())


@pytest.fixture
def sinks(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> Iterator[Sinks]:
    log_file = tmp_path / "gateway.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")  # unredacted: only what the records hold
    root = logging.getLogger("gateway")
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        yield Sinks(caplog, log_file)
    finally:
        root.removeHandler(handler)
        handler.close()


@pytest.fixture
async def chatgpt() -> Any:
    fake = await FakeChatGPT().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def copilot() -> Any:
    fake = await FakeCopilot().start()
    fake.github_tokens[CANARY_GITHUB] = "octocat"
    yield fake
    await fake.stop()


async def _codex_gateway(start_gateway: StartGateway, fake: FakeChatGPT, tmp_path: Path) -> GatewayServer:
    env = {"SWITCHBOARD_CODEX_BASE_URL": fake.url, "SWITCHBOARD_OPENAI_AUTH_URL": fake.root}
    return await start_gateway(
        "",
        env,
        admin_token=TOKEN,
        environ={"CODEX_HOME": str(tmp_path / "codex-home")},
        home=tmp_path,
        secrets=MemorySecrets(),
    )


async def _copilot_gateway(start_gateway: StartGateway, fake: FakeCopilot, tmp_path: Path) -> GatewayServer:
    env = {
        "SWITCHBOARD_GITHUB_URL": fake.root,
        "SWITCHBOARD_GITHUB_API_URL": fake.root,
        "SWITCHBOARD_COPILOT_API_URL": fake.root,
    }
    return await start_gateway(
        "",
        env,
        admin_token=TOKEN,
        environ={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
        home=tmp_path,
        secrets=MemorySecrets(),
    )


@pytest.mark.parametrize(("status", "shape"), [(400, "oauth"), (401, "nested"), (500, "oauth")])
async def test_a_refused_chatgpt_refresh_repeats_nothing_of_the_refusal(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path, sinks: Sinks, status: int, shape: str
) -> None:
    tokens: Tokens = {**chatgpt.issue(expired=True), "refresh_token": CANARY_REFRESH}
    (tmp_path / "codex-home").mkdir()
    (tmp_path / "codex-home" / "auth.json").write_text(json.dumps(chatgpt.auth_file(tokens)), encoding="utf-8")
    gw = await _codex_gateway(start_gateway, chatgpt, tmp_path)
    chatgpt.echo = (status, shape)
    chat = {"model": "codex/gpt-5-codex", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as session:
        assert (await sinks.ask(session, "POST", f"{gw.url}/admin/accounts/import/codex", {}, ADMIN))[0] == 201
        answered, _ = await sinks.ask(session, "POST", f"{gw.url}/v1/chat/completions", chat)
        await sinks.ask(session, "POST", f"{gw.url}/v1/chat/completions", chat)
        for path in ("/admin/accounts", "/v1/status", "/admin/audit"):
            await sinks.ask(session, "GET", f"{gw.url}{path}", headers=ADMIN)
    assert answered >= 400
    assert CANARY_REFRESH in chatgpt.requests_to("/oauth/token")[0].body.decode()  # sent, and echoed back
    said = await sinks.check(gw, CANARY_REFRESH)
    assert f"ChatGPT refused to renew the sign-in (HTTP {status}, invalid_request" in said  # the status and the code


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_refused_chatgpt_code_exchange_repeats_nothing_of_the_refusal(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path, sinks: Sinks, shape: str
) -> None:
    gw = await _codex_gateway(start_gateway, chatgpt, tmp_path)
    assert gw.flows is not None
    chatgpt.code_prefix, chatgpt.echo = CANARY_CODE, (400, shape)
    flow = await gw.flows.start_chatgpt("admin", free_ports(2))
    async with aiohttp.ClientSession() as session:
        async with session.get(flow.details["authorize_url"], allow_redirects=False) as r:
            callback = urlsplit(r.headers["Location"])
        url = f"http://127.0.0.1:{callback.port}{callback.path}?{callback.query}"
        assert (await sinks.ask(session, "GET", url, headers={"Host": f"localhost:{callback.port}"}))[0] == 200
        assert flow.task is not None
        await asyncio.wait_for(flow.task, 10)
        await sinks.ask(session, "GET", f"{gw.url}/admin/accounts/login/{flow.id}", headers=ADMIN)
        await sinks.ask(session, "GET", f"{gw.url}/admin/audit", headers=ADMIN)
    assert flow.status == "failed" and flow.error.startswith(
        "the sign-in could not be completed (HTTP 400, invalid_request"
    )
    form = parse_qs(chatgpt.requests_to("/oauth/token")[0].body.decode())
    code, verifier = form["code"][0], form["code_verifier"][0]
    assert code.startswith(CANARY_CODE)
    await sinks.check(gw, code, verifier)


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_refused_device_code_repeats_nothing_of_the_refusal(
    start_gateway: StartGateway, copilot: FakeCopilot, tmp_path: Path, sinks: Sinks, shape: str
) -> None:
    gw = await _copilot_gateway(start_gateway, copilot, tmp_path)
    assert gw.control is not None
    copilot.device_code, copilot.echoes["/login/device/code"] = CANARY_DEVICE, (400, shape)
    with pytest.raises(InvalidRequest) as refused:
        await gw.control.sign_in("copilot", "admin")
    sinks.answers.append(refused.value.message)
    said = await sinks.check(gw, CANARY_DEVICE)
    assert "GitHub did not start the sign-in (HTTP 400, invalid_request" in said


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_refused_device_flow_poll_repeats_nothing_of_the_refusal(
    start_gateway: StartGateway, copilot: FakeCopilot, tmp_path: Path, sinks: Sinks, shape: str
) -> None:
    gw = await _copilot_gateway(start_gateway, copilot, tmp_path)
    assert gw.control is not None and gw.flows is not None
    copilot.device_code, copilot.echoes["/login/oauth/access_token"] = CANARY_DEVICE, (400, shape)
    flow = await gw.control.sign_in("copilot", "admin")
    assert flow.task is not None
    await asyncio.wait_for(flow.task, 10)  # one poll, a second after the start (GitHub's interval)
    async with aiohttp.ClientSession() as session:
        await sinks.ask(session, "GET", f"{gw.url}/admin/accounts/login/{flow.id}", headers=ADMIN)
    assert CANARY_DEVICE in copilot.requests_to("/login/oauth/access_token")[0].body.decode()
    assert flow.status == "failed" and flow.error.startswith("GitHub refused the sign-in (invalid_request")
    await sinks.check(gw, CANARY_DEVICE)


@pytest.mark.parametrize(("status", "shape"), [(401, "nested"), (403, "oauth"), (500, "nested")])
async def test_a_refused_copilot_token_exchange_repeats_nothing_of_the_refusal(
    start_gateway: StartGateway, copilot: FakeCopilot, tmp_path: Path, sinks: Sinks, status: int, shape: str
) -> None:
    gw = await _copilot_gateway(start_gateway, copilot, tmp_path)
    chat = {"model": "copilot/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as session:
        # Connecting checks the token with an exchange: refused.
        copilot.echoes["/copilot_internal/v2/token"] = (status, shape)
        refused, _ = await sinks.ask(
            session, "POST", f"{gw.url}/admin/accounts/import/copilot", {"token": CANARY_GITHUB}, ADMIN
        )
        assert refused == 400
        # Connected; then GitHub revokes the Copilot token and refuses the next exchange.
        del copilot.echoes["/copilot_internal/v2/token"]
        assert (
            await sinks.ask(session, "POST", f"{gw.url}/admin/accounts/import/copilot", {"token": CANARY_GITHUB}, ADMIN)
        )[0] == 201
        copilot.echoes["/copilot_internal/v2/token"] = (status, shape)
        copilot.expire_copilot_tokens()
        answered, _ = await sinks.ask(session, "POST", f"{gw.url}/v1/chat/completions", chat)
        for path in ("/admin/accounts", "/v1/status", "/admin/audit"):
            await sinks.ask(session, "GET", f"{gw.url}{path}", headers=ADMIN)
    assert answered >= 400
    assert all(CANARY_GITHUB in r.headers["Authorization"] for r in copilot.requests_to("/copilot_internal/v2/token"))
    said = await sinks.check(gw, CANARY_GITHUB)
    assert f"(HTTP {status}" in said
