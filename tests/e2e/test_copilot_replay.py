"""VS Code Copilot Chat's Ollama provider, replayed against the gateway (shared/protocols.md §5.1):
discovery (``/api/version``, ``/api/tags``, ``/api/show`` per model), then a chat turn that calls
tools over ``/v1/chat/completions`` and the turn that sends the results back.

The replay reads the answers the way the extension does, so a model that would not show up, or
would show up without tools, fails here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI

from gateway import GatewayServer

MIN_VERSION = (0, 6, 4)
# The headers the extension sends: an empty bearer token unless the user set a key.
CHAT_HEADERS = {
    "Authorization": "Bearer ",
    "Content-Type": "application/json",
    "User-Agent": "GitHubCopilotChat/0.33.0",
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Local time",
            "parameters": {"type": "object", "properties": {}},
        },
    },
]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("-")[0].split("."))


async def discover(session: aiohttp.ClientSession, url: str) -> dict[str, dict[str, Any]]:
    """What the extension's Ollama provider lists: id → capabilities and token limits."""
    async with session.get(f"{url}/api/version") as reply:
        assert reply.status == 200
        version = (await reply.json())["version"]
    assert version == "0.0.0" or _version(version) >= MIN_VERSION, f"Copilot refuses Ollama {version}"
    async with session.get(f"{url}/api/tags") as reply:
        tags = await reply.json()
    listed: dict[str, dict[str, Any]] = {}
    for entry in tags["models"]:
        model = entry["model"]
        async with session.post(f"{url}/api/show", json={"model": model}) as reply:
            if reply.status != 200:
                continue  # the extension skips a model whose show fails
            show = await reply.json()
        info = show.get("model_info") or {}
        context = info.get(f"{info.get('general.architecture')}.context_length") or 32768
        max_output = 4096 if context >= 4096 else context // 2
        listed[model] = {
            "name": info.get("general.basename") or show.get("remote_model") or model,
            "tools": "tools" in (show.get("capabilities") or []),
            "vision": "vision" in (show.get("capabilities") or []),
            "max_input": context - max_output,
            "max_output": max_output,
        }
    return listed


async def chat(
    session: aiohttp.ClientSession, url: str, model: str, messages: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]], dict[str, Any], str]:
    """One streamed turn as the extension sends it; the text, the tool calls reassembled by
    index, the usage chunk and the finish reason."""
    body = {
        "model": model,
        "messages": messages,
        "tools": TOOLS,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.1,
    }
    text, usage, finish = "", {}, ""
    calls: dict[int, dict[str, str]] = {}
    async with session.post(f"{url}/v1/chat/completions", json=body, headers=CHAT_HEADERS) as reply:
        assert reply.status == 200, await reply.text()
        assert reply.headers["Content-Type"].startswith("text/event-stream")
        raw = (await reply.read()).decode()
    assert raw.rstrip().endswith("data: [DONE]")
    for line in raw.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk["choices"]:
            delta = choice["delta"]
            text += delta.get("content") or ""
            for fragment in delta.get("tool_calls") or ():
                call = calls.setdefault(fragment["index"], {"id": "", "name": "", "arguments": ""})
                call["id"] = fragment.get("id") or call["id"]
                call["name"] = (fragment.get("function") or {}).get("name") or call["name"]
                call["arguments"] += (fragment.get("function") or {}).get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    return text, [calls[k] for k in sorted(calls)], usage, finish


@pytest.fixture
async def local() -> AsyncIterator[FakeOllama]:
    fake = await FakeOllama().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def gateway(start_gateway: StartGateway, upstream: FakeOpenAI, local: FakeOllama) -> GatewayServer:
    return await start_gateway(
        provider_table("fake", upstream) + provider_table("local", local, extra="local = true"),
        {"FAKE_KEY": FAKE_KEY},
    )


@pytest.mark.parametrize("model", ["fake/gpt-test", "local/llama3.2:latest"])
async def test_discovery_then_a_tool_using_chat(
    gateway: GatewayServer, upstream: FakeOpenAI, local: FakeOllama, model: str
) -> None:
    async with aiohttp.ClientSession() as session:
        listed = await discover(session, gateway.url)
        assert {"fake/gpt-test", "local/llama3.2:latest"} <= set(listed)
        assert listed[model]["tools"], "Copilot would offer no tools for this model"
        assert listed[model]["max_input"] > 0 and listed[model]["max_output"] > 0
        if model.startswith("local/"):
            assert listed[model]["max_input"] + listed[model]["max_output"] == 131072  # the server's own figure

        messages: list[dict[str, Any]] = [
            {"role": "system", "content": "You are an AI programming assistant."},
            {"role": "user", "content": "What is the weather in Paris, and the time?"},
        ]
        text, calls, usage, finish = await chat(session, gateway.url, model, messages)
        assert finish == "tool_calls" and [c["name"] for c in calls] == ["get_weather", "get_time"]
        assert all(c["id"] for c in calls) and all(isinstance(json.loads(c["arguments"]), dict) for c in calls)
        assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0  # the usage chunk was not lost

        messages.append(
            {
                "role": "assistant",
                "content": text or None,
                "tool_calls": [
                    {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
                    for c in calls
                ],
            }
        )
        messages += [{"role": "tool", "tool_call_id": c["id"], "content": f"result of {c['name']}"} for c in calls]
        await chat(session, gateway.url, model, messages)
    fake: FakeOllama | FakeOpenAI = local if model.startswith("local/") else upstream
    sent = fake.requests_to("/v1/chat/completions")[-1].json  # Ollama's own /v1, or the hosted one
    assert sent["model"] == model.split("/", 1)[1]
    assert [(m["tool_call_id"], m["content"]) for m in sent["messages"] if m["role"] == "tool"] == [
        (c["id"], f"result of {c['name']}") for c in calls
    ]
    if fake.kind == "ollama":
        assert "Authorization" not in fake.requests[-1].headers  # a local server gets no key, and never the client's
    else:
        assert fake.requests[-1].headers["Authorization"] == f"Bearer {FAKE_KEY}"
