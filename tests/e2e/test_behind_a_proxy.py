"""Issue 24 point 1 end to end: a gateway whose settings name a proxy (with a user name and
password) reaches a provider over TLS through it, verified against ``[network] ca_file``; the
status says which proxy and where that came from; the password is in no log line, no status, no
audit entry and no error; a dead proxy is named in the client's error, not the provider."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import StartGateway
from fakes.forward_proxy import UPSTREAM_NAME, ForwardProxy
from fakes.openai_upstream import FakeOpenAI
from fakes.tls import TestCA
from test_admin_config import audited

from gateway import GatewayServer

TOKEN = "sb-admin-test-token-0000000000000000000000"
PASSWORD = "hunter2-proxy-pass"
KEY = "sk-cloud-provider-00001"


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca", (UPSTREAM_NAME,))


@pytest.fixture
async def cloud(ca: TestCA) -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=KEY).start(ca.server_context())
    yield fake
    await fake.stop()


def config(proxy: str, ca: TestCA, cloud: FakeOpenAI) -> str:
    return (
        f'[network]\nproxy = "{proxy}"\nca_file = "{ca.ca_file}"\n'
        f'[providers.cloud]\nkind = "openai-compatible"\nbase_url = "https://{UPSTREAM_NAME}:{cloud.port}/v1"\n'
        'api_key_env = "CLOUD_KEY"\nmodels = ["gpt-test"]\nconnect_timeout = 2\n'
    )


async def ask(gateway: GatewayServer, path: str, body: dict[str, Any] | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        if body is None:
            async with session.get(f"{gateway.url}{path}", headers=headers) as r:
                return r.status, await r.text()
        async with session.post(f"{gateway.url}{path}", json=body) as r:
            return r.status, await r.text()


HI = {"model": "cloud/gpt-test", "messages": [{"role": "user", "content": "Hi"}]}


async def test_a_provider_over_tls_through_the_settings_proxy(
    start_gateway: StartGateway, ca: TestCA, cloud: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy = await ForwardProxy(("ann", PASSWORD)).start()
    try:
        gateway = await start_gateway(
            config(f"http://ann:{PASSWORD}@{proxy.where}", ca, cloud), {"CLOUD_KEY": KEY}, admin_token=TOKEN
        )
        status, answer = await ask(gateway, "/v1/chat/completions", HI)
        assert status == 200, answer
        status, document = await ask(gateway, "/v1/status")
    finally:
        await proxy.stop()
    assert status == 200
    assert json.loads(document)["network"] == {"proxy": f"http://{proxy.where}", "source": "settings"}
    assert {s.method for s in proxy.seen} == {"CONNECT"}
    assert {s.target for s in proxy.seen} == {f"{UPSTREAM_NAME}:{cloud.port}"}
    assert cloud.chat_requests
    for text in (answer, document, caplog.text, json.dumps(audited(gateway))):
        assert PASSWORD not in text


async def test_the_environments_proxy_is_shown_as_the_environments(
    start_gateway: StartGateway, ca: TestCA, cloud: FakeOpenAI
) -> None:
    proxy = await ForwardProxy().start()
    text = config("x", ca, cloud).replace('proxy = "x"\n', "")
    try:
        gateway = await start_gateway(
            text, {"CLOUD_KEY": KEY, "HTTPS_PROXY": f"http://ann:{PASSWORD}@{proxy.where}"}, admin_token=TOKEN
        )
        status, answer = await ask(gateway, "/v1/chat/completions", HI)
        assert status == 200, answer
        _, document = await ask(gateway, "/v1/status")
    finally:
        await proxy.stop()
    assert json.loads(document)["network"] == {"proxy": f"http://{proxy.where}", "source": "environment"}
    assert PASSWORD not in document
    assert proxy.seen and proxy.seen[0].headers["Proxy-Authorization"].startswith("Basic ")


async def test_a_dead_proxy_is_named_in_the_clients_error(
    start_gateway: StartGateway, ca: TestCA, cloud: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dead = await ForwardProxy().start()
    await dead.stop()
    gateway = await start_gateway(
        config(f"http://ann:{PASSWORD}@{dead.where}", ca, cloud), {"CLOUD_KEY": KEY}, admin_token=TOKEN
    )
    status, answer = await ask(gateway, "/v1/chat/completions", HI)
    assert status >= 500
    assert f"cannot reach the proxy at {dead.where}" in json.loads(answer)["error"]["message"]
    assert not cloud.requests
    for text in (answer, caplog.text, json.dumps(audited(gateway))):
        assert PASSWORD not in text
