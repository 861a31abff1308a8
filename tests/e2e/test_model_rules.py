"""Model rules end to end: Claude Code's model names answered with no Anthropic key (a glob rule
sends them to OpenAI), an unknown name taken by the default, an enforced model that overrides the
client's while the ledger keeps the name it asked for, and the decide receipt naming the rule."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from typing import Any

import aiohttp
import pytest
from conftest import StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway import GatewayServer
from gateway.cli.status_text import render_receipt

RULES = '[aliases]\n"claude-*" = ["fake/gpt-other", "fake/gpt-test"]\ndefault = ["fake/gpt-test"]\n'
HI = [{"role": "user", "content": "hi"}]
TOKEN = "sb-admin-rules-test-00000000000000000000"


async def start(start_gateway: StartGateway, upstream: FakeOpenAI, config: str) -> GatewayServer:
    env = {"FAKE_KEY": upstream.key or ""}
    return await start_gateway(config + provider_table("fake", upstream), env, admin_token=TOKEN)


async def post(gateway: GatewayServer, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    headers = {"anthropic-version": "2023-06-01"} if path == "/v1/messages" else {}
    if path == "/v1/decide":
        headers["Authorization"] = f"Bearer {TOKEN}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}{path}", json=body, headers=headers) as r,
    ):
        return r.status, dict(r.headers), json.loads(await r.read())


async def test_claude_code_names_are_answered_by_openai_with_no_anthropic_key(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start(start_gateway, upstream, RULES)
    status, headers, answer = await post(
        gateway, "/v1/messages", {"model": "claude-opus-4-8", "max_tokens": 100, "messages": HI}
    )
    assert status == 200, answer
    assert answer["type"] == "message" and answer["content"][0]["type"] == "text"
    assert headers["x-switchboard-route"] == "fake/gpt-other; key=fake"
    status, headers, _ = await post(gateway, "/v1/chat/completions", {"model": "no-such-model", "messages": HI})
    assert status == 200 and headers["x-switchboard-route"] == "fake/gpt-test; key=fake"
    assert [r.json["model"] for r in upstream.chat_requests] == ["gpt-other", "gpt-test"]


async def test_an_enforced_model_overrides_the_client_and_the_ledger_keeps_what_it_asked(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start(start_gateway, upstream, '[routing]\nenforce_model = "fake/gpt-other"\n')
    status, headers, _ = await post(gateway, "/v1/chat/completions", {"model": "fake/gpt-test", "messages": HI})
    assert status == 200 and headers["x-switchboard-route"] == "fake/gpt-other; key=fake"
    # an enforced chat model cannot embed: an embeddings request goes where it asked
    status, headers, _ = await post(gateway, "/v1/embeddings", {"model": "fake/text-embed-test", "input": "x"})
    assert status == 200 and headers["x-switchboard-route"] == "fake/text-embed-test; key=fake"
    assert gateway.state is not None
    path = gateway.state.db.path
    await gateway.stop()
    conn = sqlite3.connect(path)
    row = conn.execute("SELECT model, upstream_model FROM usage WHERE kind = 'request'").fetchone()
    assert row == ("fake/gpt-test", "gpt-other")


async def test_decide_names_the_rule_that_fired(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start(start_gateway, upstream, RULES)
    receipts = {}
    for model in ("claude-haiku-4-5", "no-such-model", "fake/gpt-test"):
        status, _, receipts[model] = await post(gateway, "/v1/decide", {"model": model, "messages": HI})
        assert status == 200, receipts[model]
    assert receipts["claude-haiku-4-5"]["rule"] == 'glob "claude-*"'
    assert receipts["claude-haiku-4-5"]["chosen"] == "fake/gpt-other; key=fake"
    assert receipts["no-such-model"]["rule"] == "default"
    assert receipts["fake/gpt-test"]["rule"] == "model"
    text = render_receipt(receipts["claude-haiku-4-5"])
    assert 'rule       glob "claude-*" (asked for claude-haiku-4-5)' in text.splitlines()
    assert "rule" not in render_receipt(receipts["fake/gpt-test"])


async def test_a_glob_rule_with_a_route_nobody_lists_is_reported_at_start(
    start_gateway: StartGateway, upstream: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "gateway.routing")
    await start(start_gateway, upstream, '[aliases]\n"claude-*" = ["fake/gpt-tset", "fake/gpt-test"]\n')
    said = 'alias "claude-*": no provider lists "fake/gpt-tset"; requests for it go to its other routes'
    for _ in range(100):
        if any(r.getMessage() == said for r in caplog.records):
            break
        await asyncio.sleep(0.02)
    assert [r.getMessage() for r in caplog.records if "alias" in r.getMessage()] == [said]
