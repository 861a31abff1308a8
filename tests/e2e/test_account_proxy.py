"""A signed-in account's own proxy (``[accounts."label"] proxy``): its chat requests and its token
renewal go through it, over TLS verified for the provider's name, with its credentials and said
nowhere, while the other accounts' calls keep to ``[subscriptions] proxy``; "direct" bypasses that."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import StartGateway
from fakes.chatgpt import FakeChatGPT
from fakes.forward_proxy import UPSTREAM_NAME, ForwardProxy
from fakes.openai_upstream import FakeOpenAI
from fakes.tls import TestCA

from gateway.config.network import network_settings, proxy_plan
from gateway.providers.access import Access
from gateway.providers.base import BaseProvider
from gateway.providers.registry import adapter as provider_adapter
from gateway.providers.settings import ProviderSettings
from gateway.store.secrets import MemorySecrets
from gateway.transport import UpstreamRequest
from gateway.transport.http1 import Http1Transport

TOKEN = "sb-admin-access-test-token-000000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "hunter2-account-proxy"
LABEL = "codex:ada@example.com"  # the fake's account: its e-mail address names it


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca", (UPSTREAM_NAME,))


@pytest.fixture
async def chatgpt(ca: TestCA) -> AsyncIterator[FakeChatGPT]:
    fake = await FakeChatGPT().start(ca.server_context())
    yield fake
    await fake.stop()


async def test_an_accounts_requests_and_renewal_take_its_own_proxy(
    start_gateway: StartGateway,
    chatgpt: FakeChatGPT,
    ca: TestCA,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    own = await ForwardProxy(("ann", PASSWORD)).start()
    shared = await ForwardProxy().start()
    root = f"https://{UPSTREAM_NAME}:{chatgpt.port}"
    folder = tmp_path / "codex-home"
    folder.mkdir()
    tokens = chatgpt.issue(expired=True)  # the first request renews it
    (folder / "auth.json").write_text(json.dumps(chatgpt.auth_file(tokens)), encoding="utf-8")
    config = (
        f'[network]\nca_file = "{ca.ca_file}"\n'
        f'[subscriptions]\nproxy = "http://{shared.where}"\n'
        f'[accounts."{LABEL}"]\nproxy = "http://ann:{PASSWORD}@{own.where}"\n'
    )
    env = {"SWITCHBOARD_CODEX_BASE_URL": f"{root}/backend-api/codex", "SWITCHBOARD_OPENAI_AUTH_URL": root}
    gw = await start_gateway(
        config, env, admin_token=TOKEN, environ={"CODEX_HOME": str(folder)}, home=tmp_path, secrets=MemorySecrets()
    )
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{gw.url}/admin/accounts/import/codex", json={}, headers=ADMIN) as r:
                account: dict[str, Any] = (await r.json())["account"]
                assert r.status == 201 and account["label"] == LABEL
            shared.seen.clear()
            body = {"model": "codex/gpt-5-codex", "messages": [{"role": "user", "content": "Hi"}]}
            async with session.post(f"{gw.url}/v1/chat/completions", json=body) as r:
                answer = await r.text()
                assert r.status == 200, answer
    finally:
        await own.stop()
        await shared.stop()
    assert chatgpt.refresh_calls == 1
    assert {(s.method, s.target) for s in own.seen} == {("CONNECT", f"{UPSTREAM_NAME}:{chatgpt.port}")}
    assert all(s.headers["Proxy-Authorization"].startswith("Basic ") for s in own.seen)
    assert shared.seen == []  # the account's own proxy, not the subscriptions'
    assert PASSWORD not in caplog.text and PASSWORD not in answer


async def _to_loopback(host: str, port: int) -> list[tuple[object, ...]]:
    return [(2, 1, 6, "", ("127.0.0.1", port))]


async def test_direct_for_one_account_bypasses_the_subscriptions_proxy(tmp_path: Path) -> None:
    shared = await ForwardProxy().start()
    fake = await FakeOpenAI().start()
    data = {
        "subscriptions": {"proxy": f"http://{shared.where}"},
        "accounts": {"copilot:ann": {"proxy": "direct"}},
    }
    transport = Http1Transport(proxies=proxy_plan(network_settings(data, tmp_path, {})), resolve=_to_loopback)
    url = f"http://{UPSTREAM_NAME}:{fake.port}/v1/models"
    try:
        for account in ("copilot:ann", "copilot:bob", "copilot:ann"):
            reply = await transport.send(UpstreamRequest("copilot", "GET", url, (), account=account))
            await reply.read(1 << 16)
            reply.release()
    finally:
        await transport.aclose()
        await shared.stop()
        await fake.stop()
    assert [s.target for s in shared.seen] == [url]  # bob's alone
    assert len(fake.requests) == 3


def test_an_access_names_its_account_on_the_request() -> None:
    adapter = provider_adapter(ProviderSettings("codex", "codex", "https://chatgpt.com/backend-api/codex", (), "codex"))
    assert isinstance(adapter, BaseProvider)
    request = adapter.post("/responses", b"{}", Access("tok", account=LABEL), stream=True)
    assert request.account == LABEL
    assert adapter.models_request(Access("tok", account=LABEL), "r1").account == LABEL
    assert adapter.post("/responses", b"{}", "sk-key-0001", stream=True).account == ""
