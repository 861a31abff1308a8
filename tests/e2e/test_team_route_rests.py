"""Two gateways sharing a real Redis (``[shared] redis``) share what their upstreams said: a key one
gateway was told is rate limited rests on the other too, which then answers its clients at once
instead of spending another attempt on a provider that just said no."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI
from servers.redis import RedisServer

from gateway.runtime.server import GatewayServer

CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}


async def chat(gateway: GatewayServer) -> tuple[int, dict[str, str], Any]:
    async with aiohttp.ClientSession() as session, session.post(f"{gateway.url}/v1/chat/completions", json=CHAT) as r:
        return r.status, dict(r.headers), json.loads(await r.read())


def cooling(gateway: GatewayServer) -> dict[str, Any]:
    provider = next(p for p in gateway.gateway.status()["providers"] if p["id"] == "fake")
    cooldowns: dict[str, Any] = provider["keys"][0]["cooldowns"]
    return cooldowns


async def test_a_rate_limit_met_on_one_gateway_rests_the_key_on_the_other(
    start_gateway: StartGateway, upstream: FakeOpenAI, redis_server: RedisServer
) -> None:
    config = f'[shared]\nredis = "{redis_server.url}"\n\n' + provider_table("fake", upstream)
    one = await start_gateway(config, {"FAKE_KEY": FAKE_KEY})
    other = await start_gateway(config, {"FAKE_KEY": FAKE_KEY})
    upstream.key_faults[FAKE_KEY] = upstream.failure(
        429, "rate_limit_error", "Rate limit reached", {"retry-after": "30"}
    )
    status, _, _ = await chat(one)
    assert status == 429 and len(upstream.requests_to("/chat/completions")) == 1
    async with asyncio.timeout(3):
        while not cooling(other):
            await asyncio.sleep(0.02)
    assert cooling(other).keys() == cooling(one).keys()
    status, headers, body = await chat(other)
    assert status == 429 and 25 <= int(headers["Retry-After"]) <= 30, body
    assert body["error"]["type"]  # OpenAI's error shape
    assert len(upstream.requests_to("/chat/completions")) == 1  # the other gateway did not ask again
