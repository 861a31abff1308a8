"""Claude Code's slots as model rules, end to end: its small, fast requests, its main turns and its
sub-agents each go where their rule says, with no Anthropic key."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from conftest import StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

RULES = (
    '[aliases]\n"claude-code:haiku" = ["fake/gpt-other"]\n"claude-code:subagent" = ["fake/gpt-other"]\n'
    '"claude-code:main" = ["fake/gpt-test"]\n'
)
HEADERS = {"anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219"}
MAIN = "You are Claude Code, Anthropic's official CLI for Claude."
AGENT = "You are an agent for Claude Code, Anthropic's official CLI for Claude."


def request(model: str, *system: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    if system:
        body["system"] = [{"type": "text", "text": text} for text in system]
    return body


async def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=HEADERS) as r:
        return r.status, dict(r.headers), json.loads(await r.read())


async def test_each_claude_code_slot_goes_where_its_rule_says(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    config = RULES + provider_table("fake", upstream)
    gateway = await start_gateway(config, {"FAKE_KEY": upstream.key or ""})
    routes = {}
    for kind, body in (
        ("title", request("claude-haiku-4-5-20251001", "Analyze if this message indicates a new conversation topic.")),
        ("main", request("claude-opus-4-8", MAIN)),
        ("agent", request("claude-sonnet-4-5", MAIN, AGENT)),
    ):
        status, headers, answer = await post(f"{gateway.url}/v1/messages", body)
        assert status == 200, answer
        routes[kind] = headers["x-switchboard-route"]
    assert routes == {
        "title": "fake/gpt-other; key=fake",
        "main": "fake/gpt-test; key=fake",
        "agent": "fake/gpt-other; key=fake",
    }
