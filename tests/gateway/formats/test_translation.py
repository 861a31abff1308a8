"""OpenAI Chat ⇄ canonical ⇄ Anthropic Messages (and OpenAI Responses): requests, answers, streams."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.chat import (
    ChatRequest,
    ChatResponse,
    Finish,
    FinishReason,
    ImagePart,
    Message,
    Reasoning,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    ToolChoice,
    ToolResult,
    UsageReport,
)
from gateway.core.timing import Timing
from gateway.core.usage import Usage
from gateway.formats.anthropic import codec as anthropic
from gateway.formats.anthropic.stream import StreamDecoder as AnthropicDecoder
from gateway.formats.anthropic.stream import StreamEncoder as AnthropicEncoder
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.interfaces import StreamDecoder, StreamEncoder
from gateway.formats.ollama import codec as ollama
from gateway.formats.ollama.stream import StreamDecoder as OllamaDecoder
from gateway.formats.ollama.stream import StreamEncoder as OllamaEncoder
from gateway.formats.openai_chat import codec as openai
from gateway.formats.openai_chat.stream import StreamDecoder as OpenAIDecoder
from gateway.formats.openai_chat.stream import StreamEncoder as OpenAIEncoder
from gateway.formats.openai_responses import codec as responses
from gateway.formats.openai_responses import items
from gateway.formats.openai_responses.stream import StreamDecoder as ResponsesDecoder
from gateway.formats.openai_responses.stream import StreamEncoder as ResponsesEncoder

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def sse_events(raw: bytes) -> list[dict[str, Any]]:
    out = []
    for block in raw.split(b"\n\n"):
        for line in block.split(b"\n"):
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                out.append(json.loads(line[6:]))
    return out


# --- requests ----------------------------------------------------------------------------------


def test_anthropic_request_becomes_openai_with_tool_results_first() -> None:
    body = {
        "model": "m",
        "max_tokens": 100,
        "system": [
            {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Use tools."},
        ],
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Let me check.", "signature": "sig"},
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Here you go."},
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [
                            {"type": "text", "text": "18C"},
                            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                        ],
                    },
                ],
            },
        ],
        "tools": [{"name": "get_weather", "description": "Weather", "input_schema": WEATHER}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "stop_sequences": ["END"],
        "temperature": 0.3,
        "top_k": 5,
        "stream": True,
        "metadata": {"user_id": "u1"},
    }
    wire = openai.encode_request(anthropic.decode_request(body), "gpt-up", stream_usage=True)
    assert wire["messages"] == [
        {"role": "system", "content": "Be brief.\n\nUse tools."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Here you go."},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
    ]
    assert wire["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER}}
    ]
    assert wire["tool_choice"] == "required" and wire["parallel_tool_calls"] is False
    assert wire["stop"] == ["END"] and wire["temperature"] == 0.3 and "top_k" not in wire
    assert wire["max_tokens"] == 100 and wire["user"] == "u1"
    assert wire["stream"] is True and wire["stream_options"] == {"include_usage": True}


def test_openai_request_becomes_anthropic() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look:"},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,QUJD"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_2", "content": "25C"},
            {"role": "user", "content": "And tomorrow?"},
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "temperature": 1.7,
        "stop": "END",
        "reasoning_effort": "medium",
    }
    wire = anthropic.encode_request(openai.decode_request(body), "claude-up")
    assert wire["system"] == [{"type": "text", "text": "Be brief."}]
    assert wire["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look:"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "QUJD"}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": [{"type": "text", "text": "18C"}]},
                {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "25C"}]},
                {"type": "text", "text": "And tomorrow?"},
            ],
        },
    ]
    assert wire["tool_choice"] == {"type": "tool", "name": "get_weather"}
    assert wire["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    assert wire["max_tokens"] > 8192 and "temperature" not in wire  # thinking forbids a temperature
    assert wire["stop_sequences"] == ["END"]


def test_what_cannot_be_translated_is_a_clear_400() -> None:
    with pytest.raises(BodyError) as caught:
        openai.decode_request(
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}
        )
    assert caught.value.param == "messages[0].content[0]"
    with pytest.raises(BodyError) as caught:  # a server tool is only refused when it is forced
        anthropic.decode_request(
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": "x"}],
                "tools": [{"type": "web_search_20250305", "name": "web_search"}],
                "tool_choice": {"type": "tool", "name": "web_search"},
            }
        )
    assert caught.value.param == "tools.0"
    with pytest.raises(BodyError) as caught:
        anthropic.encode_request(
            openai.decode_request(
                {
                    "model": "m",
                    "messages": [
                        {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
                            ],
                        }
                    ],
                }
            ),
            "x",
        )
    assert "not valid JSON" in caught.value.message


# --- answers -----------------------------------------------------------------------------------


def test_openai_answer_becomes_anthropic_with_usage_split() -> None:
    body = {
        "id": "chatcmpl-1",
        "model": "gpt-up",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": "Sure.",
                    "reasoning_content": "thinking...",
                    "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "prompt_tokens_details": {"cached_tokens": 60}},
    }
    out = anthropic.encode_response(openai.decode_response(body), "claude-alias")
    assert out["id"] == "msg_chatcmpl-1" and out["model"] == "claude-alias"
    assert out["content"] == [
        {"type": "thinking", "thinking": "thinking...", "signature": ""},
        {"type": "text", "text": "Sure."},
        {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}},
    ]
    assert out["stop_reason"] == "tool_use"
    assert out["usage"] == {
        "input_tokens": 40,
        "output_tokens": 20,
        "cache_read_input_tokens": 60,
        "cache_creation_input_tokens": 0,
    }


def test_anthropic_answer_becomes_openai() -> None:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-up",
        "content": [
            {"type": "text", "text": "Hi"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": [1, 2]}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_read_input_tokens": 30,
            "cache_creation_input_tokens": 2,
        },
    }
    out = openai.encode_response(anthropic.decode_response(body), "m", 1_700_000_000)
    message = out["choices"][0]["message"]
    assert message["content"] == "Hi"
    assert message["tool_calls"] == [
        {"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": '{"x":[1,2]}'}}
    ]
    assert out["choices"][0]["finish_reason"] == "tool_calls"
    assert out["usage"]["prompt_tokens"] == 42 and out["usage"]["prompt_tokens_details"]["cached_tokens"] == 30


def test_a_model_emitting_bad_tool_json_still_gets_an_answer() -> None:
    response = ChatResponse("1", "m", (ToolCall("c", "f", "{not json"),), "tool_calls", None)
    assert anthropic.encode_response(response, "m")["content"][0]["input"] == {"_raw": "{not json"}


# --- streams -----------------------------------------------------------------------------------


def openai_chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> bytes:
    chunk = {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "model": "gpt-up",
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}],
        **extra,
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def test_openai_stream_with_interleaved_tool_calls_becomes_a_valid_anthropic_stream() -> None:
    upstream = b"".join(
        [
            openai_chunk({"role": "assistant", "content": ""}),
            openai_chunk({"content": "Let me check."}),
            openai_chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "weather", "arguments": ""},
                        }
                    ]
                }
            ),
            openai_chunk(
                {
                    "tool_calls": [
                        {"index": 1, "id": "call_b", "type": "function", "function": {"name": "time", "arguments": ""}}
                    ]
                }
            ),
            openai_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
            openai_chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"tz":'}}]}),
            openai_chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "Paris"}'}}]}),
            openai_chunk({"tool_calls": [{"index": 1, "function": {"arguments": ' "CET"}'}}]}),
            openai_chunk(finish="tool_calls"),
            b'data: {"id":"chatcmpl-9","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":12}}\n\n',
            b"data: [DONE]\n\n",
        ]
    )
    decoder, encoder = OpenAIDecoder("p"), AnthropicEncoder("claude-alias")
    raw = b""
    for i in range(0, len(upstream), 37):  # arbitrary network chunking
        for event in decoder.feed(upstream[i : i + 37]):
            raw += encoder.feed(event)
    events = sse_events(raw)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    # Blocks are sequential and each is opened and closed exactly once.
    starts = [e for e in events if e["type"] == "content_block_start"]
    stops = [e for e in events if e["type"] == "content_block_stop"]
    assert [s["index"] for s in starts] == [0, 1, 2] == [s["index"] for s in stops]
    assert [s["content_block"]["type"] for s in starts] == ["text", "tool_use", "tool_use"]
    inputs: dict[int, str] = {}
    for e in events:
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta":
            inputs[e["index"]] = inputs.get(e["index"], "") + e["delta"]["partial_json"]
    assert json.loads(inputs[1]) == {"city": "Paris"} and json.loads(inputs[2]) == {"tz": "CET"}
    delta = events[-2]
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert delta["usage"]["input_tokens"] == 50 and delta["usage"]["output_tokens"] == 12


def anthropic_sse(kind: str, **payload: Any) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **payload})}\n\n".encode()


ANTHROPIC_STREAM = b"".join(
    [
        anthropic_sse(
            "message_start",
            message={
                "id": "msg_7",
                "type": "message",
                "role": "assistant",
                "model": "claude-up",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 20, "cache_read_input_tokens": 80, "output_tokens": 1},
            },
        ),
        anthropic_sse("content_block_start", index=0, content_block={"type": "thinking", "thinking": ""}),
        anthropic_sse("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": "Hmm."}),
        anthropic_sse("content_block_delta", index=0, delta={"type": "signature_delta", "signature": "sig=="}),
        anthropic_sse("content_block_stop", index=0),
        anthropic_sse("ping"),
        anthropic_sse("content_block_start", index=1, content_block={"type": "text", "text": ""}),
        anthropic_sse("content_block_delta", index=1, delta={"type": "text_delta", "text": "Hello"}),
        anthropic_sse("content_block_stop", index=1),
        anthropic_sse(
            "content_block_start",
            index=2,
            content_block={"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
        ),
        anthropic_sse("content_block_delta", index=2, delta={"type": "input_json_delta", "partial_json": ""}),
        anthropic_sse("content_block_delta", index=2, delta={"type": "input_json_delta", "partial_json": '{"q": 1}'}),
        anthropic_sse("content_block_stop", index=2),
        anthropic_sse(
            "message_delta", delta={"stop_reason": "tool_use", "stop_sequence": None}, usage={"output_tokens": 9}
        ),
        anthropic_sse("message_stop"),
    ]
)


def test_anthropic_stream_becomes_openai_chunks_with_usage() -> None:
    decoder, encoder = AnthropicDecoder("p"), OpenAIEncoder("m", 1_700_000_000, include_usage=True)
    raw = b"".join(encoder.feed(e) for e in decoder.feed(ANTHROPIC_STREAM))
    assert raw.endswith(b"data: [DONE]\n\n")
    chunks = sse_events(raw)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert {"reasoning_content": "Hmm."} in deltas and {"content": "Hello"} in deltas
    assert {
        "tool_calls": [{"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": ""}}]
    } in deltas
    assert {"tool_calls": [{"index": 0, "function": {"arguments": '{"q": 1}'}}]} in deltas
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]] == [
        "tool_calls"
    ]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 100
    assert chunks[-1]["usage"]["prompt_tokens_details"]["cached_tokens"] == 80


def test_anthropic_to_anthropic_through_canonical_keeps_thinking_signatures() -> None:
    decoder, encoder = AnthropicDecoder("p"), AnthropicEncoder("claude-alias")
    events = sse_events(b"".join(encoder.feed(e) for e in decoder.feed(ANTHROPIC_STREAM)))
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    assert {"type": "signature_delta", "signature": "sig=="} in deltas
    assert events[-2]["usage"]["cache_read_input_tokens"] == 80


def test_anthropic_error_event_mid_stream_raises() -> None:
    decoder = AnthropicDecoder("p")
    with pytest.raises(Exception, match="Overloaded"):
        decoder.feed(anthropic_sse("error", error={"type": "overloaded_error", "message": "Overloaded"}))


# --- round trips (hypothesis) ------------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20)
ids = st.from_regex(r"[a-z]{3}_[0-9]{1,4}", fullmatch=True)
calls = st.builds(
    ToolCall,
    ids,
    st.from_regex(r"[a-z_]{1,10}", fullmatch=True),
    st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), st.integers(-5, 5), max_size=3).map(
        lambda d: json.dumps(d, separators=(",", ":"))
    ),
)
results = st.builds(ToolResult, ids, st.tuples(st.builds(TextPart, texts)))
user_turns = st.lists(
    st.one_of(
        st.builds(TextPart, texts),
        st.builds(ImagePart, st.just("image/png"), st.from_regex(r"[A-Za-z0-9]{4,12}", fullmatch=True)),
    ),
    min_size=1,
    max_size=3,
)
assistant_turns = st.tuples(st.builds(TextPart, texts), st.lists(calls, max_size=2))


@st.composite
def conversations(draw: st.DrawFn) -> ChatRequest:
    messages: list[Message] = []
    for _ in range(draw(st.integers(1, 3))):
        messages.append(Message("user", tuple(draw(user_turns))))
        text, tool_calls = draw(assistant_turns)
        messages.append(Message("assistant", (text, *tool_calls)))
        if tool_calls:
            messages.append(Message("user", tuple(ToolResult(c.id, (TextPart(f"result {c.id}"),)) for c in tool_calls)))
    return ChatRequest(
        model="m",
        messages=tuple(messages),
        system=(TextPart(draw(texts)),),
        tools=(Tool("f", "does f", {"type": "object", "properties": {}}),),
        tool_choice=draw(
            st.one_of(st.none(), st.sampled_from([ToolChoice("auto"), ToolChoice("required"), ToolChoice("tool", "f")]))
        ),
        max_tokens=draw(st.integers(1, 10_000)),
        temperature=draw(st.one_of(st.none(), st.floats(0, 1))),
        stop=tuple(draw(st.lists(texts, max_size=2))),
        stream=draw(st.booleans()),
    )


def merged_turns(request: ChatRequest) -> ChatRequest:
    """Meaning, not message boundaries: consecutive turns of one role read as one (Messages merges
    them), with tool results leading the user turn."""
    turns: list[Message] = []
    for message in request.messages:
        if turns and turns[-1].role == message.role:
            turns[-1] = Message(message.role, turns[-1].parts + message.parts)
        else:
            turns.append(message)
    turns = [Message(t.role, tuple(sorted(t.parts, key=lambda p: not isinstance(p, ToolResult)))) for t in turns]
    return ChatRequest(**{**{f: getattr(request, f) for f in request.__dataclass_fields__}, "messages": tuple(turns)})


@given(conversations())
def test_canonical_survives_anthropic(request: ChatRequest) -> None:
    again = anthropic.decode_request(anthropic.encode_request(request, "m"))
    assert merged_turns(again) == merged_turns(request)


@given(conversations())
def test_canonical_survives_openai(request: ChatRequest) -> None:
    again = openai.decode_request(openai.encode_request(request, "m", stream_usage=False))
    assert merged_turns(again) == merged_turns(request)


@given(conversations())
def test_canonical_survives_responses(request: ChatRequest) -> None:
    again = responses.decode_request(responses.encode_request(request, "m"))
    assert merged_turns(again) == merged_turns(
        ChatRequest(**{**{f: getattr(request, f) for f in request.__dataclass_fields__}, "stop": ()})
    )


def ollama_meaning(request: ChatRequest) -> ChatRequest:
    """Ollama writes a user turn as one text and its images beside it, and has no stop-less
    sampling fields to lose: compare turns with their text joined and images after it."""
    turns = []
    for message in merged_turns(request).messages:
        results = [p for p in message.parts if isinstance(p, ToolResult)]
        text = "".join(p.text for p in message.parts if isinstance(p, TextPart))
        images = [p for p in message.parts if isinstance(p, ImagePart)]
        calls = [p for p in message.parts if isinstance(p, ToolCall)]
        turns.append(Message(message.role, (*results, *([TextPart(text)] if text else []), *images, *calls)))
    fields = {f: getattr(request, f) for f in request.__dataclass_fields__}
    return ChatRequest(**{**fields, "messages": tuple(turns), "tool_choice": None})


@given(conversations())
def test_canonical_survives_ollama(request: ChatRequest) -> None:
    again = ollama.decode_chat(ollama.encode_request(request, "m"))
    assert ollama_meaning(again) == ollama_meaning(request)


@given(
    st.lists(st.one_of(texts.map(TextDelta), st.tuples(ids, texts)), min_size=1, max_size=8),
    st.integers(0, 500),
    st.integers(0, 500),
)
def test_stream_meaning_survives_every_encoder(pieces: list[Any], prompt: int, completion: int) -> None:
    """Canonical events → each protocol's SSE → canonical keep the text, the tool calls with their
    arguments, the finish reason and the usage."""
    events: list[Any] = [StreamStart("x", "m")]
    tool = 0
    for piece in pieces:
        if isinstance(piece, TextDelta):
            events.append(piece)
        else:
            events += [ToolCallStart(tool, piece[0], "f"), ToolCallDelta(tool, json.dumps({"v": piece[1]}))]
            tool += 1
    usage = Usage(prompt, completion)
    events += [Finish("tool_calls" if tool else "stop"), UsageReport(usage), StreamEnd()]

    def meaning(evs: list[Any]) -> tuple[str, dict[int, tuple[str, str]], Any, Any]:
        text = "".join(e.text for e in evs if isinstance(e, TextDelta))
        tools: dict[int, list[str]] = {}
        names: dict[int, str] = {}
        for e in evs:
            if isinstance(e, ToolCallStart):
                names[e.index], tools[e.index] = e.id, []
            elif isinstance(e, ToolCallDelta):
                tools[e.index].append(e.arguments)
        finish = [e.reason for e in evs if isinstance(e, Finish)]
        usages = [e.usage.prompt_tokens + e.usage.completion_tokens for e in evs if isinstance(e, UsageReport)]
        return (
            text,
            {i: (names[i], json.loads("".join(a))) for i, a in tools.items()},
            finish[-1:],
            usages[-1:],
        )  # arguments by meaning: Ollama re-encodes them

    expected = meaning(events)
    pairs: list[tuple[StreamEncoder, StreamDecoder]] = [
        (AnthropicEncoder("m"), AnthropicDecoder("p")),
        (OpenAIEncoder("m", 0, include_usage=True), OpenAIDecoder("p")),
        (ResponsesEncoder("m", 0, items.echoed({})), ResponsesDecoder("p")),
        (OllamaEncoder("m", Timing(0, 0.0, lambda: 1.0), generate=False), OllamaDecoder("p")),
    ]
    for encoder, decoder in pairs:
        assert meaning(decoder.feed(b"".join(encoder.feed(e) for e in events))) == expected


def test_reasoning_events_reach_both_protocols() -> None:
    events: list[StreamEvent] = [
        StreamStart("x", "m"),
        ReasoningDelta("plan"),
        ReasoningDelta(signature="s"),
        TextDelta("done"),
        Finish("stop"),
        StreamEnd(),
    ]
    to_anthropic, to_openai = AnthropicEncoder("m"), OpenAIEncoder("m", 0, include_usage=False)
    anthropic_events = sse_events(b"".join(to_anthropic.feed(e) for e in events))
    assert [e["type"] for e in anthropic_events].count("message_start") == 1
    assert [e["content_block"]["type"] for e in anthropic_events if e["type"] == "content_block_start"] == [
        "thinking",
        "text",
    ]
    openai_chunks = sse_events(b"".join(to_openai.feed(e) for e in events))
    assert {"reasoning_content": "plan"} in [c["choices"][0]["delta"] for c in openai_chunks]


def test_reasoning_part_without_signature_is_not_sent_to_anthropic() -> None:
    request = ChatRequest(
        "m", (Message("user", (TextPart("q"),)), Message("assistant", (Reasoning("unsigned"), TextPart("a"))))
    )
    assert anthropic.encode_request(request, "m")["messages"][1]["content"] == [{"type": "text", "text": "a"}]


@st.composite
def answers(draw: st.DrawFn) -> ChatResponse:
    parts: list[Any] = []
    if draw(st.booleans()):
        parts.append(Reasoning(draw(texts)))
    parts += [TextPart(t) for t in draw(st.lists(texts, max_size=2))]
    tool_calls = draw(st.lists(calls, max_size=2, unique_by=lambda c: c.id))
    parts += tool_calls
    prompt = draw(st.integers(0, 10_000))
    usage = Usage(prompt, draw(st.integers(0, 10_000)), draw(st.integers(0, prompt)))
    finish: FinishReason = "tool_calls" if tool_calls else draw(st.sampled_from(["stop", "length"]))
    return ChatResponse("x1", "m", tuple(parts), finish, usage)


def answer_meaning(answer: ChatResponse, *, cached: bool = True) -> tuple[Any, ...]:
    return (
        "".join(p.text for p in answer.parts if isinstance(p, TextPart)),
        "".join(p.text for p in answer.parts if isinstance(p, Reasoning)),
        [(p.id, p.name, json.loads(p.arguments)) for p in answer.parts if isinstance(p, ToolCall)],
        answer.finish,
        answer.usage
        and (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.cached_tokens if cached else 0),
    )


@given(answers())
def test_answers_survive_every_codec(answer: ChatResponse) -> None:
    expected = answer_meaning(answer)
    assert answer_meaning(openai.decode_response(openai.encode_response(answer, "m", 0))) == expected
    assert answer_meaning(anthropic.decode_response(anthropic.encode_response(answer, "m"))) == expected
    assert (
        answer_meaning(responses.decode_response(responses.encode_response(answer, "m", 0, items.echoed({}))))
        == expected
    )
    through_ollama = ollama.decode_response(
        ollama.encode_response(answer, "m", Timing(0, 0.0, lambda: 0.0), generate=False)
    )
    assert answer_meaning(through_ollama, cached=False) == answer_meaning(
        answer, cached=False
    )  # Ollama counts no cache
