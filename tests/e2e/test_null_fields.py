"""``null`` for any field is that field left out, as the APIs take it (issue 20 item 7): in a
request of each protocol holding every kind of field (tools, tool calls and results, images,
options), each field and each member at any depth is set to ``null`` in turn, streamed and not,
for an upstream of every protocol (the passthrough and each translation), together with every
top-level field the protocol's checks know. The answer may be a 400 (a required field is missing),
never a 5xx or an error mid-stream. SECURITY.md B2, B3: the fuzzer's only 5xx was
``"stream": true, "stream_options": null``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from conftest import ANTHROPIC_KEY, FAKE_KEY, StartGateway, provider_table
from fakes.anthropic_upstream import FakeAnthropic
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI

from gateway import GatewayServer
from gateway.formats.anthropic import checks as messages
from gateway.formats.ollama import checks as ollama
from gateway.formats.openai import embeddings as openai_embeddings
from gateway.formats.openai_chat import checks as chat
from gateway.formats.openai_responses import checks as responses

Path = tuple[str | int, ...]
# Each protocol's error, as a whole answer or mid-stream.
_ERROR = re.compile(rb'"error"\s*:\s*[{"]|response\.failed|event: error')
# One model per upstream protocol: the client's own is the passthrough, the others translations.
CHAT_MODELS = ("chat/gpt-test", "resp/gpt-test", "claude/claude-test", "local/llama3.2:latest")
EMBEDDING_MODELS = ("chat/text-embed-test", "local/nomic-embed-text:latest")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@dataclass(frozen=True)
class Surface:
    name: str
    path: str
    body: dict[str, Any]  # every kind of field the protocol has, without model and stream
    known: dict[str, Any]  # the protocol's checks: each top-level field is swept too
    models: tuple[str, ...] = CHAT_MODELS
    streams: bool = True

    def nulls(self) -> list[Path]:
        paths = list(_paths(self.body))
        return paths + [(name,) for name in self.known if (name,) not in paths]

    def bodies(self, model: str, stream: bool) -> Iterator[tuple[Path, dict[str, Any]]]:
        for path in self.nulls():
            body = copy.deepcopy({**self.body, "model": model})
            if self.streams:
                body["stream"] = stream
            _set(body, path, None)
            yield path, body


def _paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every member and array element, at any depth."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        yield (*prefix, key)
        yield from _paths(inner, (*prefix, key))


def _set(body: Any, path: Path, value: Any) -> None:
    for key in path[:-1]:
        body = body[key]
    body[path[-1]] = value


CHAT: dict[str, Any] = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "name": "ann",
            "content": [
                {"type": "text", "text": "Weather?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Weather in a city", "parameters": SCHEMA},
        }
    ],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "stream_options": {"include_usage": True},
    "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": SCHEMA}},
    "max_tokens": 50,
    "temperature": 0.5,
    "stop": ["END"],
    "reasoning_effort": "low",
    "metadata": {"k": "v"},
}
RESPONSES: dict[str, Any] = {
    "instructions": "Be brief.",
    "input": [
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Weather?"},
                {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
            ],
        },
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
    ],
    "tools": [{"type": "function", "name": "get_weather", "description": "Weather in a city", "parameters": SCHEMA}],
    "tool_choice": {"type": "function", "name": "get_weather"},
    "reasoning": {"effort": "low", "summary": "auto"},
    "text": {"format": {"type": "json_schema", "name": "w", "schema": SCHEMA}},
    "max_output_tokens": 50,
    "temperature": 0.5,
    "metadata": {"k": "v"},
    "store": False,
}
MESSAGES: dict[str, Any] = {
    "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Look it up.", "signature": "sig"},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "18C"}],
                    "is_error": False,
                }
            ],
        },
    ],
    "tools": [{"name": "get_weather", "description": "Weather in a city", "input_schema": SCHEMA}],
    "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "output_config": {"effort": "low"},
    "metadata": {"user_id": "u1"},
    "max_tokens": 2048,
    "temperature": 1,
    "stop_sequences": ["END"],
    "top_k": 5,
}
OLLAMA_CHAT: dict[str, Any] = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?", "images": [PNG]},
        {
            "role": "assistant",
            "content": "",
            "thinking": "Look it up.",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
        },
        {"role": "tool", "tool_name": "get_weather", "content": "18C"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Weather in a city", "parameters": SCHEMA},
        }
    ],
    "options": {
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 5,
        "num_predict": 50,
        "num_ctx": 4096,
        "seed": 1,
        "stop": ["END"],
    },
    "format": SCHEMA,
    "think": True,
    "keep_alive": "5m",
}
OLLAMA_GENERATE: dict[str, Any] = {
    "prompt": "Say hello",
    "system": "Be brief.",
    "suffix": "",
    "images": [PNG],
    "raw": False,
    "options": {"temperature": 0.5, "num_predict": 50, "stop": ["END"]},
    "format": "json",
    "think": False,
    "keep_alive": 0,
}

SURFACES = (
    Surface("chat", "/v1/chat/completions", CHAT, chat.CHAT_FIELDS),
    Surface("responses", "/v1/responses", RESPONSES, responses.RESPONSE_FIELDS),
    Surface("messages", "/v1/messages", MESSAGES, messages.MESSAGE_FIELDS),
    Surface("count-tokens", "/v1/messages/count_tokens", MESSAGES, messages.MESSAGE_FIELDS, streams=False),
    Surface("ollama-chat", "/api/chat", OLLAMA_CHAT, ollama.CHAT_FIELDS),
    Surface("ollama-generate", "/api/generate", OLLAMA_GENERATE, ollama.GENERATE_FIELDS),
    Surface(
        "embeddings",
        "/v1/embeddings",
        {"input": ["hello", "world"], "dimensions": 8, "encoding_format": "float"},
        openai_embeddings.EMBEDDING_FIELDS,
        EMBEDDING_MODELS,
        streams=False,
    ),
    Surface(
        "ollama-embed",
        "/api/embed",
        {"input": ["hello"], "truncate": True, "dimensions": 8, "options": {"num_ctx": 512}, "keep_alive": "1m"},
        {},
        EMBEDDING_MODELS,
        streams=False,
    ),
)


@pytest.fixture
async def gateway(
    start_gateway: StartGateway, upstream: FakeOpenAI, anthropic_upstream: FakeAnthropic
) -> AsyncIterator[GatewayServer]:
    local = await FakeOllama().start()
    yield await start_gateway(
        provider_table("chat", upstream)
        + provider_table("resp", upstream, extra='protocols = ["openai-responses"]')
        + provider_table("claude", anthropic_upstream)
        + provider_table("local", local, extra="local = true"),
        {"CHAT_KEY": FAKE_KEY, "RESP_KEY": FAKE_KEY, "CLAUDE_KEY": ANTHROPIC_KEY},
    )
    await local.stop()


async def _problem(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> str | None:
    """What went wrong: a 5xx, or an error in a 200 answer."""
    async with session.post(url, json=body) as reply:
        raw = await reply.read()
    if reply.status >= 500:
        return f"HTTP {reply.status}: {raw[:300]!r}"
    if reply.status == 200 and _ERROR.search(raw):
        return f"error in the answer: {raw[-300:]!r}"
    return None


@pytest.mark.parametrize("surface", SURFACES, ids=[s.name for s in SURFACES])
async def test_null_is_never_a_server_error(gateway: GatewayServer, surface: Surface) -> None:
    problems = []
    async with aiohttp.ClientSession() as session:
        for model in surface.models:
            for stream in (False, True) if surface.streams else (False,):
                for path, body in surface.bodies(model, stream):
                    if (problem := await _problem(session, gateway.url + surface.path, body)) is not None:
                        problems.append(f"{model} stream={stream} {'.'.join(map(str, path))}=null: {problem}")
    assert not problems, "\n".join(problems)


async def test_stream_options_null_is_absent(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    """The gateway still asks the upstream for usage (for its ledger) and the client, which did
    not ask for it, gets no usage chunk."""
    body = {"model": "chat/gpt-test", "messages": CHAT["messages"][:2], "stream": True, "stream_options": None}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=body) as reply,
    ):
        raw = await reply.read()
    assert reply.status == 200 and raw.endswith(b"data: [DONE]\n\n") and b'"usage":{' not in raw
    assert upstream.chat_requests[-1].json["stream_options"] == {"include_usage": True}
