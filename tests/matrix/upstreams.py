"""Upstream profiles: a fake, what it answers (in neutral terms), how to make it fail, and how to
read back in neutral terms what the gateway sent it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes import anthropic_upstream as ant
from fakes import ollama_upstream as oll
from fakes import openai_upstream as oai
from fakes import responses_api
from fakes.upstream import FakeUpstream

from matrix import Received

# (prompt incl. cached, completion, cached, reasoning)
UsageFigures = tuple[int, int, int, int]


@dataclass(frozen=True)
class Upstream:
    name: str
    make: Callable[[], FakeUpstream]
    key: str
    model: str
    text: str
    short_text: str  # the answer cut by a max_tokens of 2
    reasoning: str
    tool_calls: tuple[tuple[str, str, Any], ...]
    usage: Callable[[bool], UsageFigures]  # by stream or not
    stream_failure: str  # words of the upstream's in-stream error
    rate_limit_kind: str  # its error type for a 429
    read: Callable[[FakeUpstream], Received]
    config: str = ""  # more lines for its [providers.up] table
    tool_ids: bool = True  # its answers name tool calls (else the gateway makes ids up)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or () if p.get("type") in ("text", "input_text", "output_text"))


# --- OpenAI Chat Completions ---------------------------------------------------------------------


def _read_chat(fake: FakeUpstream) -> Received:
    body = fake.requests_to("/chat/completions")[-1].json
    system, turns, calls, results, images = None, [], [], [], []
    for m in body["messages"]:
        role = m["role"]
        if role in ("system", "developer"):
            system = _text(m["content"])
        elif role == "tool":
            results.append((m["tool_call_id"], _text(m["content"])))
        else:
            if text := _text(m.get("content")):
                turns.append((role, text))
            for part in m.get("content") if isinstance(m.get("content"), list) else ():
                if part["type"] == "image_url":
                    media, data = part["image_url"]["url"].removeprefix("data:").split(";base64,")
                    images.append((media, data))
            calls += [
                (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
                for c in m.get("tool_calls") or ()
            ]
    return Received(
        system=system,
        turns=turns,
        tool_calls=calls,
        tool_results=results,
        images=images,
        tool_names=[t["function"]["name"] for t in body.get("tools") or ()],
        reasoning_asked=bool(body.get("reasoning_effort")),
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
    )


OPENAI_CHAT = Upstream(
    name="openai-chat",
    make=lambda: oai.FakeOpenAI(key="sk-matrix-openai"),
    key="sk-matrix-openai",
    model="gpt-test",
    text=oai.TEXT,
    short_text="".join(oai.WORDS[:2]),
    reasoning=oai.REASONING,
    tool_calls=tuple((i, n, json.loads(a)) for i, n, a in oai.TOOL_CALLS),
    usage=lambda stream: (12, 5, 0, 0) if stream else (12, 7, 4, 2),
    stream_failure="The server had an error",
    rate_limit_kind="rate_limit_exceeded",
    read=_read_chat,
)


# --- OpenAI Responses ----------------------------------------------------------------------------


def _read_responses(fake: FakeUpstream) -> Received:
    body = fake.requests_to("/v1/responses")[-1].json
    items = body["input"] if isinstance(body["input"], list) else [{"role": "user", "content": body["input"]}]
    turns, calls, results, images = [], [], [], []
    system = body.get("instructions")
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            if text := _text(item["content"]):
                turns.append((item["role"], text))
            for part in item["content"] if isinstance(item["content"], list) else ():
                if part["type"] == "input_image":
                    media, data = part["image_url"].removeprefix("data:").split(";base64,")
                    images.append((media, data))
        elif kind == "function_call":
            calls.append((item["call_id"], item["name"], json.loads(item["arguments"])))
        elif kind == "function_call_output":
            results.append((item["call_id"], _text(item["output"])))
    return Received(
        system=system,
        turns=turns,
        tool_calls=calls,
        tool_results=results,
        images=images,
        tool_names=[t["name"] for t in body.get("tools") or ()],
        reasoning_asked=bool((body.get("reasoning") or {}).get("effort")),
        max_tokens=body.get("max_output_tokens"),
    )


_R = responses_api.USAGE
OPENAI_RESPONSES = Upstream(
    name="openai-responses",
    make=lambda: oai.FakeOpenAI(key="sk-matrix-responses"),
    key="sk-matrix-responses",
    model="gpt-test",
    text=responses_api.TEXT,
    short_text="".join(responses_api.TEXT_PIECES[:2]),
    reasoning=responses_api.SUMMARY,
    tool_calls=tuple((i, n, json.loads(a)) for i, n, a in responses_api.FUNCTION_CALLS),
    usage=lambda stream: (
        _R["input_tokens"],
        _R["output_tokens"],
        _R["input_tokens_details"]["cached_tokens"],
        _R["output_tokens_details"]["reasoning_tokens"],
    ),
    stream_failure=responses_api.FAILED["message"],
    rate_limit_kind="rate_limit_exceeded",
    read=_read_responses,
    config='protocols = ["openai-responses"]\n',
)


# --- Anthropic Messages --------------------------------------------------------------------------


def _read_messages(fake: FakeUpstream) -> Received:
    body = fake.requests_to("/v1/messages")[-1].json
    turns, calls, results, images = [], [], [], []
    for m in body["messages"]:
        content = m["content"] if isinstance(m["content"], list) else [{"type": "text", "text": m["content"]}]
        if text := _text(content):
            turns.append((m["role"], text))
        for block in content:
            if block["type"] == "tool_use":
                calls.append((block["id"], block["name"], block["input"]))
            elif block["type"] == "tool_result":
                results.append((block["tool_use_id"], _text(block["content"])))
            elif block["type"] == "image":
                images.append((block["source"]["media_type"], block["source"]["data"]))
    system = body.get("system")
    return Received(
        system=_text(system) if system is not None else None,
        turns=turns,
        tool_calls=calls,
        tool_results=results,
        images=images,
        tool_names=[t["name"] for t in body.get("tools") or ()],
        reasoning_asked=(body.get("thinking") or {}).get("type") == "enabled",
        max_tokens=body.get("max_tokens"),
    )


_U = ant.USAGE
ANTHROPIC = Upstream(
    name="anthropic",
    make=lambda: ant.FakeAnthropic(key="sk-ant-matrix"),
    key="sk-ant-matrix",
    model="claude-test",
    text=ant.TEXT,
    short_text=ant.TEXT[:6],
    reasoning=ant.THINKING,
    tool_calls=ant.TOOL_USES,
    usage=lambda stream: (
        _U["input_tokens"] + _U["cache_read_input_tokens"] + _U["cache_creation_input_tokens"],
        _U["output_tokens"],
        _U["cache_read_input_tokens"],
        0,
    ),
    stream_failure="Overloaded",
    rate_limit_kind="rate_limit_error",
    read=_read_messages,
)


# --- Ollama (native, with OpenAI Chat clients passed through to its /v1) ----------------------------


def _read_ollama(fake: FakeUpstream) -> Received:
    last = [r for r in fake.requests if r.path in ("/api/chat", "/v1/chat/completions")][-1]
    if last.path == "/v1/chat/completions":
        return _read_chat(fake)
    body = last.json
    system, turns, calls, results, images = None, [], [], [], []
    for m in body["messages"]:
        if m["role"] == "system":
            system = m["content"]
        elif m["role"] == "tool":
            results.append((m.get("tool_call_id") or m.get("tool_name"), m["content"]))
        else:
            if m.get("content"):
                turns.append((m["role"], m["content"]))
            images += [("image/png", i) for i in m.get("images") or ()]
            calls += [
                (c.get("id") or c["function"]["name"], c["function"]["name"], c["function"]["arguments"])
                for c in m.get("tool_calls") or ()
            ]
    return Received(
        system=system,
        turns=turns,
        tool_calls=calls,
        tool_results=results,
        images=images,
        tool_names=[t["function"]["name"] for t in body.get("tools") or ()],
        reasoning_asked=body.get("think") not in (None, False),
        max_tokens=(body.get("options") or {}).get("num_predict"),
    )


OLLAMA = Upstream(
    name="ollama",
    make=oll.FakeOllama,
    key="",
    model="qwen3:8b",  # a model that thinks: a reasoning ask to one that does not is left out (clamped per model)
    text=oll.TEXT,
    short_text="".join(oll.WORDS[:2]),
    reasoning=oll.THINKING,
    tool_calls=tuple(("", n, a) for n, a in oll.TOOL_CALLS),
    usage=lambda stream: (oll.COUNTS["prompt_eval_count"], oll.COUNTS["eval_count"], 0, 0),
    stream_failure=oll.STREAM_FAILURE,
    rate_limit_kind="",
    read=_read_ollama,
    config="local = true\n",
    tool_ids=False,
)


UPSTREAMS = (OPENAI_CHAT, OPENAI_RESPONSES, ANTHROPIC, OLLAMA)
