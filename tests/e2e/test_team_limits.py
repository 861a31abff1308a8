"""A gateway with ``[shared] redis`` keeps its client keys' limits in a real Redis, end to end:
concurrent requests over HTTP get exactly the key's limit and then 429 in the client's shape, the
windows and the answers' cost are in Redis (where another gateway reads them), none in-process."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI
from servers.redis import RedisServer

from gateway.shared.link import connect

TOKEN = "sb-admin-team-limits-token-00000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
PRICED = '[server]\nrequire_keys = true\n\n[models."fake/gpt-test"]\ncost = [1000, 1000]\n\n'


async def post(session: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    async with session.post(url, json=body, headers=headers) as r:
        return r.status, await r.json(content_type=None)


async def test_a_keys_limit_is_kept_in_redis(
    start_gateway: StartGateway, upstream: FakeOpenAI, redis_server: RedisServer
) -> None:
    config = f'{PRICED}[shared]\nredis = "{redis_server.url}"\n\n' + provider_table("fake", upstream)
    gateway = await start_gateway(config, {"FAKE_KEY": FAKE_KEY}, admin_token=TOKEN)
    async with aiohttp.ClientSession() as session:
        limits = {"requests_per_minute": 3}
        status, made = await post(session, f"{gateway.url}/admin/keys", {"label": "team", "limits": limits}, ADMIN)
        assert status == 201, made
        bearer = {"Authorization": f"Bearer {made['key']}"}
        answers = await asyncio.gather(
            *(post(session, f"{gateway.url}/v1/chat/completions", CHAT, bearer) for _ in range(8))
        )
    assert sorted(status for status, _ in answers) == [200] * 3 + [429] * 5
    refused = next(body for status, body in answers if status == 429)
    assert "3 requests per minute" in refused["error"]["message"]
    await gateway.gateway.counted()
    redis = connect(redis_server.url)
    try:
        prefix = f"switchboard:limits:{{{made['id']}}}"
        assert sum(map(int, (await redis.hgetall(f"{prefix}:requests_minute")).values())) == 3
        for _ in range(50):  # each answer's cost is settled in the background
            if sum(map(int, (await redis.hgetall(f"{prefix}:dollars_day")).values())) > 0:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("no spend reached Redis")
    finally:
        await redis.aclose()
