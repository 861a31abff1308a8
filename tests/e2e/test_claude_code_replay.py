"""A Claude Code session replayed against the gateway: the small-model title request, then a main
turn (system blocks with ``cache_control``, the tool set, thinking, beta headers, streamed), then
the next turn carrying the signed thinking block, the ``tool_use`` and its ``tool_result``.

To an Anthropic upstream everything passes through untouched; to an OpenAI-compatible upstream it
is translated, and the streamed answer is still a well-formed Messages stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from anthropic.types import TextBlockParam, ToolParam
from conftest import ANTHROPIC_KEY, FAKE_KEY, StartGateway, provider_table
from fakes.anthropic_upstream import SIGNATURE, THINKING, TOOL_USES, FakeAnthropic
from fakes.openai_upstream import REASONING, TOOL_CALLS, FakeOpenAI

from gateway import GatewayServer

MAIN_MODEL = "claude-sonnet-4-5-20250929"
SMALL_MODEL = "claude-haiku-4-5-20251001"
# As Claude Code 2.1.332 sends them (its real requests, seen through a logging proxy).
BETAS = (
    "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,"
    "mid-conversation-tool-changes-2026-07-01,advanced-tool-use-2025-11-20,effort-2025-11-24"
)
HEADERS = {
    "anthropic-version": "2023-06-01",
    "anthropic-beta": BETAS,
    "anthropic-dangerous-direct-browser-access": "true",
    "authorization": "Bearer client-oauth-token-must-not-travel",
    "x-app": "cli",
    "user-agent": "claude-cli/2.1.332 (external, sdk-cli)",
    "x-stainless-lang": "js",
    "content-type": "application/json",
}
SYSTEM: list[TextBlockParam] = [
    {
        "type": "text",
        "text": "You are Claude Code, Anthropic's official CLI for Claude.",
        "cache_control": {"type": "ephemeral"},
    },
    {
        "type": "text",
        "text": "You are an interactive CLI tool that helps users with software engineering tasks.\n\n"
        "# Tone\nBe concise.",
        "cache_control": {"type": "ephemeral"},
    },
]
_SCHEMA = "http://json-schema.org/draft-07/schema#"
TOOLS: list[ToolParam] = [
    {
        "name": "Bash",
        "description": "Executes a given bash command.",
        "input_schema": {
            "type": "object",
            "properties": {"command": {"type": "string"}, "timeout": {"type": "number"}},
            "required": ["command"],
            "additionalProperties": False,
            "$schema": _SCHEMA,
        },
    },
    {
        "name": "Read",
        "description": "Reads a file from the local filesystem.",
        "input_schema": {
            "type": "object",
            "properties": {"file_path": {"type": "string"}, "offset": {"type": "number"}},
            "required": ["file_path"],
            "additionalProperties": False,
            "$schema": _SCHEMA,
        },
    },
    {
        "name": "Task",
        "description": "Launch a new agent.",
        "input_schema": {
            "type": "object",
            "properties": {
                "prompt": {"type": "string"},
                "model": {"type": "string", "enum": ["sonnet", "opus", "haiku"]},
            },
            "required": ["prompt"],
            "additionalProperties": False,
            "$schema": _SCHEMA,
        },
    },
]
USER_TURN = {
    "role": "user",
    "content": [
        {"type": "text", "text": "<system-reminder>\nThe date is 2026-11-21.\n</system-reminder>"},
        {
            "type": "text",
            "text": "What is the weather in Paris, and the time there?",
            "cache_control": {"type": "ephemeral"},
        },
    ],
}
# Since 2.1.154 the environment and reminders come as system messages between the turns.
ENVIRONMENT_TEXT = "# Environment\n - Platform: linux\n - Shell: bash"
ENVIRONMENT = {"role": "system", "content": [{"type": "text", "text": ENVIRONMENT_TEXT}]}
METADATA = {"user_id": "user_3f1c0e_account__session_6a0b9d2e-1c4f-4d8e-9a57-2b3c4d5e6f70"}


def title_request(model: str) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 512,
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
        "system": [{"type": "text", "text": "Analyze if this message indicates a new conversation topic."}],
        "temperature": 0,
        "metadata": METADATA,
        "stream": False,
    }


def main_request(model: str) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [USER_TURN, ENVIRONMENT],
        "system": SYSTEM,
        "tools": TOOLS,
        "metadata": METADATA,
        "max_tokens": 32000,
        "thinking": {"type": "adaptive", "display": "updates"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
        "stream": True,
    }


def next_request(model: str, assistant: list[dict[str, Any]]) -> dict[str, Any]:
    results = {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": block["id"],
                "content": [{"type": "text", "text": f"result of {block['name']}"}],
            }
            for block in assistant
            if block["type"] == "tool_use"
        ],
    }
    return main_request(model) | {
        "messages": [USER_TURN, ENVIRONMENT, {"role": "assistant", "content": assistant}, results]
    }


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()  # compact, like JSON.stringify


async def post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, bytes]:
    async with session.post(f"{url}/v1/messages?beta=true", data=encoded(body), headers=HEADERS) as reply:
        return reply.status, await reply.read()


def read_stream(data: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    """The event names, and the content blocks reassembled from the deltas."""
    names: list[str] = []
    blocks: list[dict[str, Any]] = []
    for raw in data.decode().split("\n\n"):
        if not raw.strip():
            continue
        name, payload = (line.split(": ", 1)[1] for line in raw.split("\n"))
        event = json.loads(payload)
        assert event["type"] == name
        names.append(name)
        if name == "content_block_start":
            assert event["index"] == len(blocks)
            blocks.append(dict(event["content_block"]) | {"_json": ""})
        elif name == "content_block_delta":
            block, delta = blocks[event["index"]], event["delta"]
            field = {
                "text_delta": "text",
                "thinking_delta": "thinking",
                "signature_delta": "signature",
                "input_json_delta": "_json",
            }[delta["type"]]
            value = delta.get("partial_json", delta.get(field, ""))
            block[field] = block.get(field, "") + value
    for block in blocks:
        raw_input = block.pop("_json")
        if block["type"] == "tool_use":
            block["input"] = json.loads(raw_input or "{}")
    return names, blocks


@pytest.fixture
async def anthropic_fake() -> AsyncIterator[FakeAnthropic]:
    fake = await FakeAnthropic(key=ANTHROPIC_KEY, models=(MAIN_MODEL, SMALL_MODEL)).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def gateway(start_gateway: StartGateway, upstream: FakeOpenAI, anthropic_fake: FakeAnthropic) -> GatewayServer:
    return await start_gateway(
        provider_table("fake", upstream) + provider_table("ant", anthropic_fake),
        {"FAKE_KEY": FAKE_KEY, "ANT_KEY": ANTHROPIC_KEY},
    )


async def test_session_to_an_anthropic_upstream_passes_through_untouched(
    gateway: GatewayServer, anthropic_fake: FakeAnthropic
) -> None:
    async with aiohttp.ClientSession() as session:
        status, body = await post(session, gateway.url, title_request(SMALL_MODEL))
        assert status == 200, body
        status, streamed = await post(session, gateway.url, main_request(MAIN_MODEL))
        assert status == 200
        _, blocks = read_stream(streamed)
        assert [b["type"] for b in blocks] == ["thinking", "text", "tool_use", "tool_use"]
        assert (blocks[0]["thinking"], blocks[0]["signature"]) == (THINKING, SIGNATURE)
        status, _ = await post(session, gateway.url, next_request(MAIN_MODEL, blocks))
        assert status == 200
    sent = anthropic_fake.message_requests
    assert len(sent) == 3
    for request, expected in zip(
        sent, (title_request(SMALL_MODEL), main_request(MAIN_MODEL), next_request(MAIN_MODEL, blocks)), strict=True
    ):
        assert request.body == encoded(expected)  # byte for byte: the names already were the upstream's
        assert request.headers["anthropic-beta"] == BETAS
        assert request.headers["anthropic-version"] == "2023-06-01"
        assert request.headers["x-api-key"] == ANTHROPIC_KEY
        assert "client-oauth-token" not in json.dumps(request.headers)
        assert "x-app" not in {k.lower() for k in request.headers}  # only the allow-listed headers travel
    replayed = sent[2].json["messages"][2]["content"][0]
    assert replayed == {"type": "thinking", "thinking": THINKING, "signature": SIGNATURE}  # the signature survives
    assert [b["id"] for b in blocks[2:]] == [tid for tid, _, _ in TOOL_USES]


async def test_session_to_an_openai_upstream_is_translated(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    model = "fake/gpt-test"  # what ANTHROPIC_MODEL / ANTHROPIC_SMALL_FAST_MODEL would be set to
    async with aiohttp.ClientSession() as session:
        status, whole = await post(session, gateway.url, title_request(model))
        assert status == 200
        assert json.loads(whole)["content"] == [{"type": "text", "text": "Hello from the fake upstream!"}]
        status, streamed = await post(session, gateway.url, main_request(model))
        assert status == 200
        names, blocks = read_stream(streamed)
        status, _ = await post(session, gateway.url, next_request(model, blocks))
        assert status == 200
    # A well-formed Messages stream: the upstream's reasoning as a thinking block (unsigned: only
    # Anthropic signs), then every tool call whole.
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert blocks[0] == {"type": "thinking", "thinking": REASONING}
    assert [(b["id"], b["name"], b["input"]) for b in blocks[1:]] == [(i, n, json.loads(a)) for i, n, a in TOOL_CALLS]
    assert names.count("content_block_start") == names.count("content_block_stop") == 1 + len(TOOL_CALLS)

    title, main, follow = (r.json for r in upstream.chat_requests)
    assert title["messages"][0] == {
        "role": "system",
        "content": "Analyze if this message indicates a new conversation topic.",
    }
    assert (title["temperature"], title["max_tokens"], title["user"]) == (0, 512, METADATA["user_id"])
    # System blocks joined, cache_control dropped; tools as functions with their schemas whole.
    assert main["messages"][0] == {"role": "system", "content": "\n\n".join(b["text"] for b in SYSTEM)}
    assert main["messages"][1]["role"] == "user"
    assert main["messages"][2] == {"role": "system", "content": ENVIRONMENT_TEXT}  # where it was given
    assert [t["function"]["name"] for t in main["tools"]] == ["Bash", "Read", "Task"]
    assert main["tools"][2]["function"]["parameters"] == TOOLS[2]["input_schema"]
    assert main["stream_options"] == {"include_usage": True}
    assert main["reasoning_effort"] == "high"
    assert "cache_control" not in json.dumps(main)
    # The tool round: calls on the assistant turn, one tool message per result, in order.
    assistant = follow["messages"][3]
    assert [c["id"] for c in assistant["tool_calls"]] == [i for i, _, _ in TOOL_CALLS]
    assert follow["messages"][4:] == [
        {"role": "tool", "tool_call_id": i, "content": f"result of {n}"} for i, n, _ in TOOL_CALLS
    ]
    totals = gateway.gateway.totals
    assert totals.requests == 3 and totals.prompt_tokens == 36 and totals.estimated == 0
