"""The decide receipt names a Claude Code slot's rule when it fired, as it names the other rules: a
Messages body (``anthropic-version``) is routed as the messages route would route it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
from conftest import StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI
from test_cli import run

from gateway.cli.status_text import render_receipt

RULES = '[aliases]\n"claude-code:subagent" = ["fake/gpt-other"]\n"claude-*" = ["fake/gpt-test"]\n'
TOKEN = "sb-admin-slots-test-00000000000000000000"
AGENT = "You are an agent for Claude Code, Anthropic's official CLI for Claude."
CLAUDE_CODE = {"anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219"}


async def decide(url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    headers = {**headers, "Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session, session.post(f"{url}/v1/decide", json=body, headers=headers) as r:
        found: dict[str, Any] = json.loads(await r.read())
        assert r.status == 200, found
        return found


async def test_decide_names_the_claude_code_slot_rule_that_fired(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    config = RULES + provider_table("fake", upstream)
    gateway = await start_gateway(config, {"FAKE_KEY": upstream.key or ""}, admin_token=TOKEN)
    hi = [{"role": "user", "content": "hi"}]
    agent = {"model": "claude-sonnet-4-5", "max_tokens": 50, "system": AGENT, "messages": hi}
    found = await decide(gateway.url, agent, CLAUDE_CODE)
    assert (found["rule"], found["chosen"]) == ('Claude Code slot "claude-code:subagent"', "fake/gpt-other; key=fake")
    line = 'rule       Claude Code slot "claude-code:subagent" (asked for claude-sonnet-4-5)'
    assert line in render_receipt(found).splitlines()
    # a main turn is no sub-agent: the glob serves it; a Chat Completions body is as before
    main = {"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": hi}
    found = await decide(gateway.url, main, CLAUDE_CODE)
    assert (found["rule"], found["chosen"]) == ('glob "claude-*"', "fake/gpt-test; key=fake")
    found = await decide(gateway.url, {"model": "claude-sonnet-4-5", "messages": hi}, {})
    assert found["rule"] == 'glob "claude-*"'


def test_the_decide_command_asks_as_claude_code_and_names_the_slot(tmp_path: Path, upstream: FakeOpenAI) -> None:
    (tmp_path / "config.toml").write_text(RULES + provider_table("fake", upstream), encoding="utf-8")
    key = upstream.key or ""
    agent = run(tmp_path, "decide", "hi", "--model", "claude-sonnet-4-5", "--claude-code", "subagent", FAKE_KEY=key)
    assert agent.returncode == 0, agent.stderr
    assert 'rule       Claude Code slot "claude-code:subagent" (asked for claude-sonnet-4-5)' in agent.stdout
    assert "chosen     fake/gpt-other; key=fake" in agent.stdout
    main = run(tmp_path, "decide", "hi", "--model", "claude-sonnet-4-5", "--claude-code", "main", FAKE_KEY=key)
    assert main.returncode == 0 and 'rule       glob "claude-*"' in main.stdout, main.stdout + main.stderr
