"""An effort or thinking budget a route's model does not take, end to end: it reaches the upstream
as the nearest it takes (none, for a model that does not think), and the answer's
``x-switchboard-dropped`` header says what was changed."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from conftest import StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

FACTS = (
    '[models."fake/gpt-test"]\ncapabilities = ["completion", "tools", "vision"]\n'  # does not think
    '[models."fake/gpt-other"]\ncapabilities = ["completion", "tools", "thinking"]\noutput = 8000\n'
)
HI = [{"role": "user", "content": "hi"}]


async def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    headers = {"anthropic-version": "2023-06-01"} if url.endswith("/v1/messages") else {}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as r:
        return r.status, dict(r.headers), json.loads(await r.read())


async def test_an_effort_the_model_does_not_take_is_clamped_and_said(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(FACTS + provider_table("fake", upstream), {"FAKE_KEY": upstream.key or ""})
    chat = f"{gateway.url}/v1/chat/completions"
    status, headers, answer = await post(chat, {"model": "gpt-other(xhigh)", "messages": HI})
    assert status == 200, answer
    assert headers["x-switchboard-dropped"] == "reasoning_effort xhigh as high"
    status, headers, answer = await post(chat, {"model": "gpt-test(high)", "messages": HI})
    assert status == 200, answer
    assert headers["x-switchboard-dropped"] == "reasoning_effort (the model does not think)"
    # a Messages client's budget, translated: kept within the model's answer, said as an effort
    body = {"model": "fake/gpt-other-thinking-50000", "max_tokens": 100, "messages": HI}
    status, headers, answer = await post(f"{gateway.url}/v1/messages", body)
    assert status == 200, answer
    assert headers["x-switchboard-dropped"] == "thinking budget 50000 as 6976"
    sent = [(r.json["model"], r.json.get("reasoning_effort")) for r in upstream.chat_requests]
    assert sent == [("gpt-other", "high"), ("gpt-test", None), ("gpt-other", "medium")]
