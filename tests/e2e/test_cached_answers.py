"""The response cache end to end: a repeated deterministic request is answered without an
upstream call, a cached stream is replayed as a stream, and the status counts hits and misses."""

from __future__ import annotations

import json

import aiohttp
from conftest import StartGateway
from fakes.openai_upstream import TEXT, FakeOpenAI
from fakes.upstream import Script

TOKEN = "sb-admin-cache-test-00000000000000000000"


async def post(url: str, body: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session, session.post(f"{url}/v1/chat/completions", json=body) as r:
        return r.status, dict(r.headers), await r.read()


async def test_repeated_requests_come_from_the_cache(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    table = (
        f'[cache]\nenabled = true\n[providers.fake]\nkind = "openai-compatible"\nbase_url = "{upstream.url}"\n'
        'api_key_env = "FAKE_KEY"\n'
    )
    gateway = await start_gateway(table, {"FAKE_KEY": upstream.key or ""}, admin_token=TOKEN)
    body = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}], "temperature": 0}
    first = await post(gateway.url, body)
    second = await post(gateway.url, body)
    assert first[0] == second[0] == 200 and first[2] == second[2]
    assert second[1]["x-switchboard-route"] == "cache; first served by fake/gpt-test; key=fake"
    assert second[1]["x-switchboard-attempts"] == "0"

    stream = {**body, "stream": True}
    live = await post(gateway.url, stream)
    replayed = await post(gateway.url, stream)
    assert replayed[1]["Content-Type"].startswith("text/event-stream") and replayed[2] == live[2]
    assert replayed[2].rstrip().endswith(b"data: [DONE]")
    chunks = [json.loads(e[6:]) for e in replayed[2].split(b"\n\n") if e.startswith(b"data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == TEXT

    upstream.then(Script("reset", after_events=2))
    broken = {**stream, "messages": [{"role": "user", "content": "another"}]}
    await post(gateway.url, broken)  # broke off: never cached
    await post(gateway.url, {**body, "temperature": 0.5})  # samples: never cached
    await post(gateway.url, {**body, "temperature": 0.5})
    assert len(upstream.chat_requests) == 2 + 1 + 2
    again = await post(gateway.url, broken)
    assert again[1]["x-switchboard-attempts"] == "1"  # went upstream again

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{gateway.url}/v1/status", headers={"Authorization": f"Bearer {TOKEN}"}) as r,
    ):
        stats = (await r.json())["cache"]
    assert stats["enabled"] and stats["entries"] == 3 and stats["hits"] == 2 and stats["misses"] == 4


async def test_a_stream_too_large_for_the_cache_is_relayed_but_not_kept(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    table = (
        '[cache]\nenabled = true\nmax_mb = 0.001\n[providers.fake]\nkind = "openai-compatible"\n'
        f'base_url = "{upstream.url}"\napi_key_env = "FAKE_KEY"\n'
    )
    gateway = await start_gateway(table, {"FAKE_KEY": upstream.key or ""})
    stream = {
        "model": "fake/gpt-test",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0,
        "stream": True,
    }
    for _ in range(2):
        status, headers, raw = await post(gateway.url, stream)
        assert status == 200 and raw.rstrip().endswith(b"data: [DONE]") and headers["x-switchboard-attempts"] == "1"
    assert len(upstream.chat_requests) == 2
