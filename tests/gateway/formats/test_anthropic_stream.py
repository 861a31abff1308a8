"""A Messages stream made from another protocol's states the prompt's size as counted here in
``message_start`` (clients' context meters read it there), and the upstream's count at the end."""

from __future__ import annotations

import json
from typing import Any

from gateway.core.chat import Finish, StreamEnd, StreamEvent, StreamStart, TextDelta, UsageReport
from gateway.core.usage import Usage
from gateway.formats.anthropic.stream import StreamEncoder


def usage_by_event(events: list[StreamEvent], prompt_tokens: int) -> dict[str, Any]:
    encoder = StreamEncoder("claude-x", prompt_tokens)
    out = b"".join(encoder.feed(e) for e in events)
    found = {}
    for block in out.split(b"\n\n"):
        if block.startswith(b"event: message_"):
            payload = json.loads(block.partition(b"data: ")[2])
            found[payload["type"]] = payload.get("message", payload).get("usage")
    return found


def test_message_start_has_the_local_count_and_message_delta_the_upstreams() -> None:
    events: list[StreamEvent] = [
        StreamStart("u1", "m"),
        TextDelta("Hi"),
        Finish("stop"),
        UsageReport(Usage(1200, 5)),
        StreamEnd(),
    ]
    found = usage_by_event(events, 1187)
    assert found["message_start"] == {"input_tokens": 1187, "output_tokens": 0}
    assert found["message_delta"]["input_tokens"] == 1200 and found["message_delta"]["output_tokens"] == 5


def test_without_the_upstreams_count_the_local_one_stands_at_the_end_too() -> None:
    found = usage_by_event([TextDelta("Hi"), Finish("stop"), StreamEnd()], 1187)
    assert found["message_start"] == found["message_delta"] == {"input_tokens": 1187, "output_tokens": 0}
