"""Ollama: the codec's particulars, the NDJSON stream decoder, encoder and relay."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.core.chat import (
    ChatRequest,
    Finish,
    ImagePart,
    Message,
    StreamEnd,
    StreamStart,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    ToolResult,
    UsageReport,
)
from gateway.core.timing import Timing
from gateway.core.usage import Usage
from gateway.errors import GatewayError, UpstreamStatus
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.ollama import checks, codec
from gateway.formats.ollama.stream import Relay, StreamDecoder, StreamEncoder

JPEG = "/9j/4AAQSkZJRgABAQ=="


def line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def test_tool_results_named_only_by_tool_find_their_calls() -> None:
    request = codec.decode_chat(
        {
            "model": "m",
            "messages": [
                {"role": "user", "content": "Look", "images": [JPEG]},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"function": {"name": "weather", "arguments": {"city": "Paris"}}},
                        {"function": {"name": "time", "arguments": {}}},
                    ],
                },
                {"role": "tool", "content": "14:05", "tool_name": "time"},
                {"role": "tool", "content": "18C", "tool_name": "weather"},
            ],
            "think": True,
            "format": "json",
            "options": {"num_predict": -1, "stop": "END", "temperature": 0.2},
        }
    )
    user, assistant, results = request.messages
    assert user.parts == (TextPart("Look"), ImagePart(media_type="image/jpeg", data=JPEG))
    calls = [p for p in assistant.parts if isinstance(p, ToolCall)]
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("call_1_0", "weather", {"city": "Paris"}),
        ("call_1_1", "time", {}),
    ]
    assert results.parts == (ToolResult("call_1_1", (TextPart("14:05"),)), ToolResult("call_1_0", (TextPart("18C"),)))
    assert (request.reasoning_effort, request.max_tokens, request.stop, request.temperature) == (
        "medium",
        None,
        ("END",),
        0.2,
    )
    assert (
        request.response_format == {"type": "json_object"} and request.stream is True
    )  # Ollama streams unless told not to


@pytest.mark.parametrize(
    ("field", "value"), [("suffix", "}"), ("raw", True), ("template", "{{ .Prompt }}"), ("context", [1, 2])]
)
def test_generate_refuses_what_a_chat_cannot_carry(field: str, value: Any) -> None:
    with pytest.raises(BodyError) as caught:
        checks.parse_generate({"model": "m", "prompt": "x", field: value}).canonical()
    assert caught.value.param == field


def test_encoded_requests_name_results_both_ways_and_refuse_image_urls() -> None:
    request = ChatRequest(
        "m",
        (
            Message("assistant", (ToolCall("call_9", "weather", '{"city":"Rome"}'),)),
            Message("user", (ToolResult("call_9", (TextPart("25C"),), is_error=True), TextPart("And?"))),
        ),
        max_tokens=100,
    )
    body = codec.encode_request(request, "llama3")
    assert body["messages"][0]["tool_calls"] == [
        {"id": "call_9", "function": {"index": 0, "name": "weather", "arguments": {"city": "Rome"}}}
    ]
    assert body["messages"][1:] == [
        {"role": "tool", "content": "Error: 25C", "tool_name": "weather", "tool_call_id": "call_9"},
        {"role": "user", "content": "And?"},
    ]
    assert body["options"] == {"num_predict": 100} and body["stream"] is False
    with pytest.raises(BodyError):
        codec.encode_request(
            ChatRequest("m", (Message("user", (ImagePart(url="https://x.example/a.png"),)),)), "llama3"
        )


def test_decoder_gives_calls_without_ids_distinct_ids_per_answer() -> None:
    def answer(stamp: str) -> list[Any]:
        return StreamDecoder("p").feed(
            line(
                {
                    "model": "m",
                    "created_at": stamp,
                    "message": {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}],
                    },
                    "done": False,
                }
            )
            + line(
                {
                    "model": "m",
                    "created_at": stamp,
                    "message": {"role": "assistant", "content": ""},
                    "done": True,
                    "done_reason": "stop",
                    "eval_count": 4,
                }
            )
        )

    first, second = answer("2026-11-21T10:00:00.000000001Z"), answer("2026-11-21T10:00:07.000000002Z")
    assert isinstance(first[0], StreamStart)
    start = first[1]
    assert isinstance(start, ToolCallStart) and start.id.startswith("call_") and start.name == "f"
    assert first[2] == ToolCallDelta(0, '{"a":1}')
    assert first[3] == Finish("tool_calls") and first[4] == UsageReport(Usage(0, 4)) and first[5] == StreamEnd()
    assert second[1].id != start.id


def test_decoder_raises_on_an_error_line() -> None:
    with pytest.raises(UpstreamStatus, match="out of memory"):
        StreamDecoder("p").feed(
            line({"model": "m", "message": {"content": "Hi"}, "done": False}) + line({"error": "out of memory"})
        )


def test_encoder_sends_calls_whole_and_counts_and_durations_last() -> None:
    clock = iter([1.25, 2.0])  # started at 1.0: first output at 0.25 s, the end at 1 s
    encoder = StreamEncoder("m", Timing(1_700_000_000, 1.0, lambda: next(clock)), generate=False)
    out = b"".join(
        encoder.feed(e)
        for e in (
            StreamStart("x", "up"),
            TextDelta("Hi"),
            ToolCallStart(0, "call_1", "f"),
            ToolCallDelta(0, '{"a":'),
            ToolCallDelta(0, "1}"),
            Finish("tool_calls"),
            UsageReport(Usage(10, 3)),
            StreamEnd(),
        )
    )
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines[0]["message"] == {"role": "assistant", "content": "Hi"} and lines[0]["done"] is False
    assert lines[1]["message"]["tool_calls"] == [
        {"id": "call_1", "function": {"index": 0, "name": "f", "arguments": {"a": 1}}}
    ]
    last = lines[-1]
    assert last["done"] is True and last["done_reason"] == "stop" and last["created_at"] == "2023-11-14T22:13:20Z"
    assert (last["prompt_eval_count"], last["eval_count"]) == (10, 3)
    assert last["prompt_eval_duration"] == 250_000_000 and last["total_duration"] > last["prompt_eval_duration"]


def test_relay_reads_the_last_line_and_keeps_errors() -> None:
    relay = Relay()
    body = line({"model": "m", "message": {"content": "Hi"}, "done": False}) + line(
        {"model": "m", "done": True, "prompt_eval_count": 7, "eval_count": 2}
    )
    assert relay.feed(body[:20]) + relay.feed(body[20:]) == body
    assert relay.done and relay.usage == Usage(7, 2)
    failing = Relay()
    failing.feed(line({"error": "model crashed"}))
    assert failing.failed and failing.error_payload == b'{"error": "model crashed"}'
    assert json.loads(failing.failure(GatewayError("gone"))) == {"error": "gone"}
