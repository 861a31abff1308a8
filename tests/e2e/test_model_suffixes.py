"""Effort and thinking suffixes end to end: ``gpt-test(high)`` reaches the upstream as gpt-test
asking for high reasoning effort, and a Messages client's ``…-thinking-N`` becomes the budget that
a translation to Chat Completions says as an effort."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from conftest import StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

HI = [{"role": "user", "content": "hi"}]


async def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    headers = {"anthropic-version": "2023-06-01"} if url.endswith("/v1/messages") else {}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as r:
        return r.status, dict(r.headers), json.loads(await r.read())


async def test_suffixes_become_the_upstreams_effort_field(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start_gateway(provider_table("fake", upstream), {"FAKE_KEY": upstream.key or ""})
    status, headers, answer = await post(
        f"{gateway.url}/v1/chat/completions", {"model": "gpt-test(high)", "messages": HI}
    )
    assert status == 200, answer
    assert headers["x-switchboard-route"] == "fake/gpt-test; key=fake"
    body = {"model": "fake/gpt-test-thinking-2000", "max_tokens": 100, "messages": HI}
    status, _, answer = await post(f"{gateway.url}/v1/messages", body)
    assert status == 200, answer
    sent = [(r.json["model"], r.json.get("reasoning_effort")) for r in upstream.chat_requests]
    assert sent == [("gpt-test", "high"), ("gpt-test", "low")]


async def test_a_word_in_brackets_that_is_no_effort_is_refused_as_a_name(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(provider_table("fake", upstream), {"FAKE_KEY": upstream.key or ""})
    status, _, answer = await post(f"{gateway.url}/v1/chat/completions", {"model": "gpt-test(hot)", "messages": HI})
    assert status == 404, answer
    assert upstream.chat_requests == []
