from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.formats.common import ndjson
from gateway.formats.common.jsonbody import MalformedEvent
from gateway.formats.common.sse import EventSplitter, check_json, data_in, event_data, objects_in

EVENTS = [
    b'data: {"choices":[{"delta":{"content":"h\xc3\xa9llo"}}]}',
    b": OPENROUTER PROCESSING",
    b"event: message\ndata: line one\ndata: line two",
    b"data: [DONE]",
]
# What each event carries (the comment carries no data).
DATA = [b'{"choices":[{"delta":{"content":"h\xc3\xa9llo"}}]}', b"line one\nline two", b"[DONE]"]


def split_all(stream: bytes, cuts: list[int]) -> list[bytes]:
    splitter = EventSplitter()
    out: list[bytes] = []
    last = 0
    for cut in [*sorted(set(c % (len(stream) + 1) for c in cuts)), len(stream)]:
        out += data_in(splitter.take(stream[last:cut]))
        last = cut
    return out


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=40), st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_any_chunking_and_line_ending_yields_the_same_events(cuts: list[int], newline: bytes) -> None:
    stream = b"".join(e.replace(b"\n", newline) + newline + newline for e in EVENTS)
    assert split_all(stream, cuts) == DATA


def test_extra_blank_lines_are_not_events() -> None:
    assert data_in(EventSplitter().take(b"\n\n\ndata: a\n\n\n\n\ndata: b\n\n")) == [b"a", b"b"]


def test_unfinished_tail_waits() -> None:
    splitter = EventSplitter()
    assert data_in(splitter.take(b"data: a\n\ndata: b")) == [b"a"]
    assert data_in(splitter.take(b"\n")) == []
    assert data_in(splitter.take(b"\n")) == [b"b"]


def test_take_returns_whole_events_as_one_block() -> None:
    splitter = EventSplitter()
    assert splitter.take(b"data: a\n\ndata: b\n\ndata: c") == b"data: a\n\ndata: b\n\n"
    assert splitter.take(b"\n\n") == b"data: c\n\n"


def test_event_data() -> None:
    assert event_data(b"data: x") == b"x"
    assert event_data(b"data:x") == b"x"
    assert event_data(b"event: e\ndata: a\ndata: b") == b"a\nb"
    assert event_data(b": comment") is None


# --- B36: an event that is not JSON ---------------------------------------------------------------

CUT_SHORT = b'data: {"choices": [{"delta": {"content": " lost"}}\n\n'


@pytest.mark.parametrize(
    "block",
    [
        b": keep-alive\n\n",
        b"data: [DONE]\n\n",
        b"data: \n\n",
        b'event: ping\ndata: {"type": "ping"}\n\n',
        b'data: {"a": 1}\n\ndata: [1]\n\n',
    ],
)
def test_events_that_carry_json_or_nothing_pass_the_check(block: bytes) -> None:
    check_json(block)


@pytest.mark.parametrize(
    "block", [CUT_SHORT, b"data: {'a': 1}\n\n", b'data: {"a": 1}\n\nevent: x\ndata: nope\n\n', b"data: {\ndata: }x\n\n"]
)
def test_an_event_that_is_not_json_fails_the_check_and_objects_in(block: bytes) -> None:
    with pytest.raises(MalformedEvent):
        check_json(block)
    with pytest.raises(MalformedEvent):
        objects_in(block)


def test_ndjson_lines_are_checked_alike() -> None:
    ndjson.check_json(b'{"done": false}\n{"done": true}\n')
    with pytest.raises(MalformedEvent):
        ndjson.check_json(b'{"done": false}\n{"message": {"content": "x"}\n')
