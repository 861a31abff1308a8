"""An environment proxy the gateway cannot use (an https:// one, a malformed value) does not stop
its start (the desktop app's user never sees a terminal): the calls it was named for fail in the
client's own error shape, naming that proxy and what to do, never its password; loopback and
NO_PROXY'd providers, and a proxy the settings name over it, still work; the start warns once per
such proxy and the status says it."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.forward_proxy import UPSTREAM_NAME, ForwardProxy
from fakes.openai_upstream import FakeOpenAI
from fakes.tls import TestCA

from gateway import GatewayServer

TOKEN = "sb-admin-test-token-0000000000000000000000"
PASSWORD = "hunter2-env-proxy-pass"
KEY = "sk-cloud-provider-00001"
SAID = (
    "the proxy this computer names for https (https://proxy.corp.example:3128) cannot be used:"
    " only http:// and socks5:// proxies are supported"
)
ENV = {
    "CLOUD_KEY": KEY,
    "LOCAL_KEY": FAKE_KEY,
    "HTTPS_PROXY": f"https://ann:{PASSWORD}@proxy.corp.example:3128",
    "HTTP_PROXY": f"http://ann:{PASSWORD}@proxy.corp.example:99999",  # malformed: the loopback one is http
}


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca", (UPSTREAM_NAME,))


@pytest.fixture
async def cloud(ca: TestCA) -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=KEY).start(ca.server_context())
    yield fake
    await fake.stop()


def config(ca: TestCA, cloud: FakeOpenAI, local: FakeOpenAI, network: str = "") -> str:
    return (
        f'[network]\nca_file = "{ca.ca_file}"\n{network}\n'
        f'[providers.cloud]\nkind = "openai-compatible"\nbase_url = "https://{UPSTREAM_NAME}:{cloud.port}/v1"\n'
        'api_key_env = "CLOUD_KEY"\nmodels = ["gpt-test"]\nconnect_timeout = 2\n' + provider_table("local", local)
    )


async def ask(gateway: GatewayServer, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        if body is None:
            async with session.get(f"{gateway.url}{path}", headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                return r.status, json.loads(await r.text())
        async with session.post(f"{gateway.url}{path}", json=body) as r:
            return r.status, json.loads(await r.text())


def chat(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 16}


async def test_the_start_goes_on_and_the_calls_it_was_named_for_fail_saying_so(
    start_gateway: StartGateway,
    ca: TestCA,
    cloud: FakeOpenAI,
    upstream: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    gateway = await start_gateway(config(ca, cloud, upstream), ENV, admin_token=TOKEN)
    status, openai = await ask(gateway, "/v1/chat/completions", chat("cloud/gpt-test"))
    assert status == 502, openai
    message = openai["error"]["message"]
    assert SAID in message and 'set a proxy in Settings → Network, or "direct"' in message
    status, anthropic = await ask(gateway, "/v1/messages", chat("cloud/gpt-test"))
    assert status == 502 and anthropic["type"] == "error" and SAID in anthropic["error"]["message"]
    assert not cloud.requests  # never reached directly, around the proxy this computer names
    status, local = await ask(gateway, "/v1/chat/completions", chat("local/gpt-test"))
    assert status == 200, local  # a provider on loopback is never proxied
    _, document = await ask(gateway, "/v1/status")
    assert document["network"] == {"proxy": None, "source": "environment", "problem": SAID}
    warned = [r.getMessage() for r in caplog.records if r.name == "gateway.transport" and r.levelno == logging.WARNING]
    assert len(warned) == 2 and warned[0].startswith(f"{SAID} (set in HTTPS_PROXY)"), warned  # one each: https, http
    for text in (json.dumps([openai, anthropic, document]), caplog.text):
        assert PASSWORD not in text


async def test_a_proxy_the_settings_name_stands_over_it(
    start_gateway: StartGateway, ca: TestCA, cloud: FakeOpenAI, upstream: FakeOpenAI
) -> None:
    proxy = await ForwardProxy().start()
    try:
        gateway = await start_gateway(
            config(ca, cloud, upstream, f'proxy = "http://{proxy.where}"'), ENV, admin_token=TOKEN
        )
        status, answer = await ask(gateway, "/v1/chat/completions", chat("cloud/gpt-test"))
        assert status == 200, answer
        _, document = await ask(gateway, "/v1/status")
    finally:
        await proxy.stop()
    assert document["network"] == {"proxy": f"http://{proxy.where}", "source": "settings"}
    assert [s.method for s in proxy.seen] == ["CONNECT"] and cloud.chat_requests
