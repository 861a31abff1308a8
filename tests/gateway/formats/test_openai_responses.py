"""OpenAI Responses: the checks, the codec's edge cases, the stream decoder, encoder and relay."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.core.chat import (
    Finish,
    StreamEnd,
    StreamStart,
    TextDelta,
    TextPart,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gateway.errors import GatewayError, UpstreamStatus
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.openai_responses import checks, codec, items
from gateway.formats.openai_responses.stream import Relay, StreamDecoder, StreamEncoder


def sse(kind: str, sequence: int = 0, **payload: Any) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, 'sequence_number': sequence, **payload})}\n\n".encode()


def events_of(raw: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in raw.split(b"\n") if line.startswith(b"data: ")]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m"}, "input"),
        ({"model": "m", "input": 5}, "input"),
        ({"model": "m", "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"model": "m", "input": [{"type": "function_call", "call_id": "c", "name": "f"}]}, "input[0].arguments"),
        ({"model": "m", "input": "x", "truncation": "sometimes"}, "truncation"),
        ({"model": "m", "input": "x", "max_output_tokens": 0}, "max_output_tokens"),
    ],
)
def test_bad_requests_name_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(BodyError) as caught:
        checks.parse_request(body)
    assert caught.value.param == param


def test_unknown_item_types_pass_the_checks_for_a_responses_upstream() -> None:
    call = checks.parse_request(
        {"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}], "tools": [{"type": "web_search"}]}
    )
    assert call.protocol == "openai-responses"
    with pytest.raises(BodyError):
        call.canonical()  # ...but cannot be translated


def test_incomplete_and_refused_answers_keep_their_reason() -> None:
    incomplete = {
        "id": "resp_1",
        "status": "incomplete",
        "incomplete_details": {"reason": "content_filter"},
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "Hm"}]}],
    }
    assert codec.decode_response(incomplete).finish == "content_filter"
    refused = {
        "id": "resp_2",
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "refusal", "refusal": "No."}]}],
    }
    answer = codec.decode_response(refused)
    part = answer.parts[0]
    assert answer.finish == "refusal" and isinstance(part, TextPart) and part.text == "No."
    out = codec.encode_response(answer, "m", 1, items.echoed({}))
    assert out["status"] == "completed"
    cut = codec.encode_response(
        codec.decode_response({**incomplete, "incomplete_details": {"reason": "max_output_tokens"}}),
        "m",
        1,
        items.echoed({}),
    )
    assert cut["status"] == "incomplete" and cut["incomplete_details"] == {"reason": "max_output_tokens"}


def test_decoder_takes_arguments_sent_whole_and_raises_on_failure() -> None:
    decoder = StreamDecoder("up")
    events = decoder.feed(
        sse("response.created", response={"id": "resp_9", "model": "m"})
        + sse(
            "response.output_item.added",
            1,
            output_index=0,
            item={"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": ""},
        )
        + sse("response.function_call_arguments.done", 2, item_id="fc_1", output_index=0, arguments='{"a":1}')
        + sse(
            "response.completed", 3, response={"status": "completed", "usage": {"input_tokens": 3, "output_tokens": 2}}
        )
    )
    assert events[:3] == [StreamStart("resp_9", "m"), ToolCallStart(0, "call_1", "f"), ToolCallDelta(0, '{"a":1}')]
    assert isinstance(events[3], Finish) and events[3].reason == "tool_calls"
    assert isinstance(events[4], UsageReport) and events[4].usage.total_tokens == 5
    assert isinstance(events[5], StreamEnd)
    with pytest.raises(UpstreamStatus, match="quota") as caught:
        StreamDecoder("up").feed(
            sse("response.failed", response={"error": {"code": "insufficient_quota", "message": "out of quota"}})
        )
    assert caught.value.status == 429


def test_encoder_numbers_every_event_and_ends_a_failure_with_response_failed() -> None:
    encoder = StreamEncoder("m", 7, items.echoed({"instructions": "Be brief."}))
    raw = b"".join(encoder.feed(e) for e in (StreamStart("x", "up"), TextDelta("Hi")))
    raw += encoder.failure(GatewayError("upstream went away"))
    events = events_of(raw)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["message"] == "upstream went away"
    assert events[-1]["response"]["instructions"] == "Be brief."


def test_relay_passes_bytes_reads_usage_and_continues_the_numbering_on_failure() -> None:
    relay = Relay()
    stream = sse(
        "response.created", 0, response={"id": "resp_5", "object": "response", "model": "m", "status": "in_progress"}
    ) + sse("response.output_text.delta", 1, item_id="msg_1", output_index=0, content_index=0, delta="Hi")
    assert relay.feed(stream[:30]) + relay.feed(stream[30:]) == stream
    failed = events_of(relay.failure(GatewayError("connection reset")))
    assert failed[0]["sequence_number"] == 2 and failed[0]["response"]["id"] == "resp_5"
    relay.feed(
        sse(
            "response.completed",
            2,
            response={"usage": {"input_tokens": 4, "output_tokens": 6, "input_tokens_details": {"cached_tokens": 1}}},
        )
    )
    assert relay.done and relay.usage is not None and relay.usage.cached_tokens == 1
