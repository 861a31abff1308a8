"""Choosing routes end to end: aliases and auto in the model lists, the decide dry run (HTTP and
command line), output limits fitted to the model, the capability filter, conversation affinity."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
from conftest import StartGateway
from fakes.anthropic_upstream import FakeAnthropic
from fakes.openai_upstream import FakeOpenAI
from test_cli import run

from gateway import GatewayServer

TOKEN = "sb-admin-routing-test-000000000000000000"
KEYS = ("sk-first-key-000000001", "sk-second-key-00000002")
FACTS = (
    '[models."fake/gpt-test"]\nrating = 2\ncost = [0.1, 0.2]\n'
    '[models."fake/gpt-other"]\nrating = 5\ncost = [1, 2]\ncapabilities = ["completion"]\n'
)


def fake_table(fake: FakeOpenAI | FakeAnthropic, name: str = "fake", extra: str = "") -> str:
    return (
        f'[providers.{name}]\nkind = "{fake.kind}"\nbase_url = "{fake.url}"\n'
        f'api_key_env = "{name.upper()}_KEY"\n{extra}\n'
    )


async def call(
    gateway: GatewayServer, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, dict[str, str], Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{gateway.url}{path}", json=body, headers=headers) as r,
    ):
        raw = await r.read()
        return r.status, dict(r.headers), json.loads(raw) if raw else None


async def test_aliases_and_auto_are_listed_as_models(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start_gateway(
        '[aliases]\nsmart = ["fake/gpt-other", "fake/gpt-test"]\nghost = ["nobody/x"]\n' + FACTS + fake_table(upstream),
        {"FAKE_KEY": upstream.key or ""},
    )
    _, _, listed = await call(gateway, "GET", "/v1/models")
    ids = [m["id"] for m in listed["data"]]
    assert ids[-4:] == ["smart", "auto", "auto:fast", "auto:local"] and "ghost" not in ids
    assert listed["data"][-1]["owned_by"] == "switchboard"
    status, _, one = await call(gateway, "GET", "/v1/models/auto:fast")
    assert status == 200 and one["id"] == "auto:fast"
    status, _, one = await call(gateway, "GET", "/v1/models/smart")
    assert status == 200 and one["id"] == "smart"
    _, _, tags = await call(gateway, "GET", "/api/tags")
    assert {"smart", "auto"} <= {m["name"].removesuffix(":latest") for m in tags["models"]}


async def test_auto_sends_easy_prompts_to_the_cheap_model_and_hard_ones_to_the_able_one(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(FACTS + fake_table(upstream), {"FAKE_KEY": upstream.key or ""})
    easy = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
    status, headers, _ = await call(gateway, "POST", "/v1/chat/completions", easy)
    assert status == 200 and headers["x-switchboard-route"] == "fake/gpt-test; key=fake"
    hard = {
        "model": "auto",
        "messages": [
            {
                "role": "user",
                "content": "Prove step by step that this algorithm is optimal; analyze its complexity and "
                "compare designs:\n```\ndef f(): pass\n```",
            }
        ],
    }
    status, headers, _ = await call(gateway, "POST", "/v1/chat/completions", hard)
    assert status == 200 and headers["x-switchboard-route"] == "fake/gpt-other; key=fake"
    assert [r.json["model"] for r in upstream.chat_requests] == ["gpt-test", "gpt-other"]


async def test_decide_is_a_dry_run_for_the_admin(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start_gateway(FACTS + fake_table(upstream), {"FAKE_KEY": upstream.key or ""}, admin_token=TOKEN)
    body = {
        "messages": [{"role": "user", "content": "Refactor this:\n```\nx = 1\n```"}],
        "tools": [{"type": "function", "function": {"name": "run"}}],
    }
    assert (await call(gateway, "POST", "/v1/decide", body))[0] == 401
    status, _, receipt = await call(gateway, "POST", "/v1/decide", body, Authorization=f"Bearer {TOKEN}")
    assert status == 200
    assert receipt["model"] == "auto" and receipt["difficulty"]["level"] == 3
    assert receipt["difficulty"]["scores"] == {"code": 1.0, "reasoning": 0.75, "tools": 0.5}
    assert receipt["chosen"] == "fake/gpt-test; key=fake"  # gpt-other takes no tools
    assert {"route": "fake/gpt-other", "reason": "no tool use"} in receipt["rejected"]
    assert upstream.chat_requests == []  # nothing was sent


def test_the_decide_command_prints_the_receipt(tmp_path: Path, upstream: FakeOpenAI) -> None:
    (tmp_path / "config.toml").write_text(
        FACTS + fake_table(upstream) + 'models = ["gpt-test", "gpt-other"]\n', encoding="utf-8"
    )
    result = run(
        tmp_path,
        "decide",
        "Design a distributed cache; compare strategies and evaluate the trade-offs",
        FAKE_KEY=upstream.key or "",
    )
    assert result.returncode == 0, result.stderr
    assert "difficulty 4 of 5" in result.stdout and "chosen     fake/gpt-other; key=fake" in result.stdout
    assert "not        fake/gpt-test: rating 2 < difficulty 4" in result.stdout
    as_json = run(tmp_path, "decide", "hi", "--tools", "--json", FAKE_KEY=upstream.key or "")
    assert json.loads(as_json.stdout)["chosen"] == "fake/gpt-test; key=fake"


async def test_output_limits_are_clamped_and_widened_for_thinking_models(
    start_gateway: StartGateway, upstream: FakeOpenAI, anthropic_upstream: FakeAnthropic
) -> None:
    facts = (
        '[models."fake/gpt-test"]\noutput = 1000\n[models."fake/gpt-other"]\nreasons = true\noutput = 50000\n'
        '[models."claude/claude-test"]\noutput = 2048\n'
    )
    gateway = await start_gateway(
        facts + fake_table(upstream) + fake_table(anthropic_upstream, "claude"),
        {"FAKE_KEY": upstream.key or "", "CLAUDE_KEY": anthropic_upstream.key or ""},
    )
    hi = [{"role": "user", "content": "hi"}]
    await call(gateway, "POST", "/v1/chat/completions", {"model": "fake/gpt-test", "messages": hi, "max_tokens": 5000})
    await call(
        gateway,
        "POST",
        "/v1/chat/completions",
        {"model": "fake/gpt-other", "messages": hi, "max_completion_tokens": 100},
    )
    await call(gateway, "POST", "/v1/chat/completions", {"model": "fake/gpt-test", "messages": hi, "max_tokens": 10})
    sent = [r.json for r in upstream.chat_requests]
    assert (
        sent[0]["max_tokens"] == 1000 and sent[1]["max_completion_tokens"] == 100 + 4096 and sent[2]["max_tokens"] == 10
    )
    status, _, _ = await call(
        gateway, "POST", "/v1/messages", {"model": "claude/claude-test", "max_tokens": 9000, "messages": hi}
    )
    assert status == 200 and anthropic_upstream.message_requests[-1].json["max_tokens"] == 2048
    await call(
        gateway,
        "POST",
        "/api/chat",
        {"model": "claude/claude-test", "messages": hi, "stream": False, "options": {"num_predict": 4096}},
    )
    assert anthropic_upstream.message_requests[-1].json["max_tokens"] == 2048  # translated from Ollama's field


async def test_a_conversation_stays_on_its_key(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    upstream.accept(*KEYS)
    gateway = await start_gateway(fake_table(upstream, "pool"), {"POOL_KEY": ",".join(KEYS)})
    turn1 = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Plan a trip"}]
    turn2 = [*turn1, {"role": "assistant", "content": "Where to?"}, {"role": "user", "content": "Rome"}]
    routes = []
    for messages in (
        turn1,
        turn2,
        [*turn2, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "and?"}],
    ):
        _, headers, _ = await call(
            gateway, "POST", "/v1/chat/completions", {"model": "pool/gpt-test", "messages": messages}
        )
        routes.append(headers["x-switchboard-route"])
    assert len(set(routes)) == 1
    other = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Write a haiku"}]
    _, headers, _ = await call(gateway, "POST", "/v1/chat/completions", {"model": "pool/gpt-test", "messages": other})
    assert headers["x-switchboard-route"] != routes[0]  # another conversation takes the next key
    session = []
    for n in range(3):  # a session header holds a conversation whatever its opening says
        _, headers, _ = await call(
            gateway,
            "POST",
            "/v1/chat/completions",
            {"model": "pool/gpt-test", "messages": [{"role": "user", "content": f"q{n}"}]},
            session_id="abc",
        )
        session.append(headers["x-switchboard-route"])
    assert len(set(session)) == 1


async def test_concurrent_conversations_spread_over_keys(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    upstream.accept(*KEYS)
    gateway = await start_gateway(fake_table(upstream, "pool"), {"POOL_KEY": ",".join(KEYS)})
    results = await asyncio.gather(
        *(
            call(
                gateway,
                "POST",
                "/v1/chat/completions",
                {"model": "pool/gpt-test", "messages": [{"role": "user", "content": f"c{n}"}]},
            )
            for n in range(10)
        )
    )
    used = [h["x-switchboard-route"] for _, h, _ in results]
    assert used.count("pool/gpt-test; key=pool#1") == used.count("pool/gpt-test; key=pool#2") == 5
