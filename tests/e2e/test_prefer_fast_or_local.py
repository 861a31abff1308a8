"""Issue 23, point 4 end to end: with two upstreams of different speed, auto:fast goes to the faster
once both have served (as auto does with the x-switchboard-prefer header), auto:local to the local
server, plain auto to the cheaper; decide shows the latencies it used."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conftest import StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway import GatewayServer

TOKEN = "sb-admin-fast-local-test-00000000000000"
# The local server is free but slow; the cloud costs, and answers at once.
FACTS = '[models."local/gpt-test"]\nrating = 3\ncost = [0, 0]\n[models."cloud/gpt-test"]\nrating = 3\ncost = [1, 2]\n'


@pytest.fixture
async def cloud() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key="sk-cloud-provider-00001").start()
    yield fake
    await fake.stop()


async def post(
    gateway: GatewayServer, model: str, path: str = "/v1/chat/completions", text: str = "Hi", **headers: str
) -> Any:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}{path}", json=body, headers=headers) as r,
    ):
        assert r.status == 200, await r.text()
        return r.headers.get("x-switchboard-route", ""), json.loads(await r.read())


async def test_auto_fast_picks_the_faster_after_warm_up_and_auto_local_the_local_server(
    start_gateway: StartGateway, upstream: FakeOpenAI, cloud: FakeOpenAI
) -> None:
    upstream.delay = 0.3
    gateway = await start_gateway(
        provider_table("local", upstream, extra="local = true") + provider_table("cloud", cloud) + FACTS,
        {"LOCAL_KEY": upstream.key or "", "CLOUD_KEY": cloud.key or ""},
        admin_token=TOKEN,
    )
    for warm_up in ("local/gpt-test", "cloud/gpt-test"):  # each route answers once: both measured
        await post(gateway, warm_up)
    assert (await post(gateway, "auto:fast"))[0].startswith("cloud/gpt-test")
    assert (await post(gateway, "auto:local"))[0].startswith("local/gpt-test")
    assert (await post(gateway, "auto"))[0].startswith("local/gpt-test")  # plain auto: the free one
    # Another conversation (the one above is kept where it went: affinity keeps its prompt cache).
    fast = await post(gateway, "auto", text="Hello", **{"x-switchboard-prefer": "fast"})
    assert fast[0].startswith("cloud/gpt-test")
    _, receipt = await post(gateway, "auto:fast", "/v1/decide", Authorization=f"Bearer {TOKEN}")
    assert receipt["rule"] == "auto:fast" and receipt["chosen"].startswith("cloud/gpt-test")
    latency = receipt["latency_ms"]
    assert latency["local/gpt-test"] >= 300 > latency["cloud/gpt-test"]
    headers = {"Authorization": f"Bearer {TOKEN}", "x-switchboard-prefer": "local"}
    _, receipt = await post(gateway, "auto:fast", "/v1/decide", **headers)  # the name's mode wins
    assert receipt["prefer"] == "fast"
    _, receipt = await post(gateway, "auto", "/v1/decide", **headers)
    assert receipt["prefer"] == "local" and receipt["chosen"].startswith("local/gpt-test")
