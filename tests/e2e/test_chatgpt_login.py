"""Sign in with ChatGPT (SECURITY.md S36): PKCE and a one-time state, a loopback listener that
takes one callback with a loopback Host, escapes what it shows, and a paste-the-address fallback
when both callback ports are busy."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from conftest import StartGateway, free_ports
from fakes.chatgpt import FakeChatGPT

from gateway import GatewayServer
from gateway.store.secrets import MemorySecrets

TOKEN = "sb-admin-access-test-token-000000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def chatgpt() -> Any:
    fake = await FakeChatGPT().start()
    yield fake
    await fake.stop()


async def _gateway(start_gateway: StartGateway, fake: FakeChatGPT, tmp_path: Path) -> GatewayServer:
    env = {"SWITCHBOARD_CODEX_BASE_URL": fake.url, "SWITCHBOARD_OPENAI_AUTH_URL": fake.root}
    return await start_gateway("", env, admin_token=TOKEN, environ={}, home=tmp_path, secrets=MemorySecrets())


async def _approve(session: aiohttp.ClientSession, authorize_url: str) -> str:
    """The browser: the user approves, the auth server redirects to the callback address."""
    async with session.get(authorize_url, allow_redirects=False) as r:
        assert r.status == 302
        return r.headers["Location"]


async def _callback(session: aiohttp.ClientSession, location: str, host: str | None = None) -> tuple[int, str]:
    parts = urlsplit(location)
    url = f"http://127.0.0.1:{parts.port}{parts.path}?{parts.query}"
    async with session.get(url, headers={"Host": host or f"localhost:{parts.port}"}) as r:
        return r.status, await r.text()


async def test_sign_in_with_pkce_and_state_connects_the_account(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    gw = await _gateway(start_gateway, chatgpt, tmp_path)
    assert gw.flows is not None
    ports = free_ports(2)
    flow = await gw.flows.start_chatgpt("admin", ports)
    query = parse_qs(urlsplit(flow.details["authorize_url"]).query)
    assert query["redirect_uri"] == [f"http://localhost:{ports[0]}/auth/callback"] and query[
        "code_challenge_method"
    ] == ["S256"]
    assert len(query["state"][0]) >= 43 and len(query["code_challenge"][0]) == 43
    async with aiohttp.ClientSession() as session:
        location = await _approve(session, flow.details["authorize_url"])
        code = parse_qs(urlsplit(location).query)["code"][0]
        # A forged callback (wrong state, markup in it) gets 400, escaped, and exchanges nothing.
        forged = location.replace("state=", "state=x<script>")
        status, page = await _callback(session, forged)
        assert status == 400 and "<script>" not in page and "state mismatch" in page
        # A rebound host name is not the browser's redirect.
        status, _ = await _callback(session, location, host="evil.example:80")
        assert status == 400
        assert code in chatgpt.codes  # still unexchanged
        status, page = await _callback(session, location)
        assert status == 200 and "Signed in" in page
        assert flow.task is not None
        await asyncio.wait_for(flow.task, 5)
        assert flow.status == "done" and flow.account is not None and flow.account["origin"] == "login"
        # One callback only: the listener is gone.
        with pytest.raises(aiohttp.ClientConnectionError):
            await _callback(session, location)
        async with session.get(f"{gw.url}/admin/audit", headers=ADMIN) as r:
            assert "account.connected" in [e["action"] for e in (await r.json())["events"]]


async def test_the_second_port_serves_when_the_first_is_busy_and_pasting_works_when_both_are(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    gw = await _gateway(start_gateway, chatgpt, tmp_path)
    assert gw.flows is not None
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    taken = busy.getsockname()[1]
    try:
        (free,) = free_ports(1)
        flow = await gw.flows.start_chatgpt("admin", (taken, free))
        assert flow.details["callback_port"] == free
        await gw.flows.close()

        flow = await gw.flows.start_chatgpt("admin", (taken, taken))
        assert flow.details["paste_redirect"] is True and flow.details["callback_port"] is None
        async with aiohttp.ClientSession() as session:
            location = await _approve(session, flow.details["authorize_url"])
            (
                status,
                answer,
            ) = None, None
            async with session.post(
                f"{gw.url}/admin/accounts/login/{flow.id}/redirect",
                json={"url": location.replace("state=", "state=bad")},
                headers=ADMIN,
            ) as r:
                status, answer = r.status, await r.json()
            assert status == 400 and "state mismatch" in answer["error"]["message"]
            async with session.post(
                f"{gw.url}/admin/accounts/login/{flow.id}/redirect", json={"url": location}, headers=ADMIN
            ) as r:
                done = await r.json()
            assert done["status"] == "done" and done["account"]["label"] == "codex:ada@example.com"
    finally:
        busy.close()


async def test_the_admin_route_starts_a_sign_in(
    start_gateway: StartGateway, chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    gw = await _gateway(start_gateway, chatgpt, tmp_path)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{gw.url}/admin/accounts/login/codex", json={}, headers=ADMIN) as r:
            started = await r.json()
        assert r.status == 202 and started["status"] == "pending"
        assert started["authorize_url"].startswith(f"{chatgpt.root}/oauth/authorize?")
        assert started["callback_port"] in (1455, 1457, None)  # None: both taken on this machine
