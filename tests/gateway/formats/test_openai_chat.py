from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.core.usage import Usage
from gateway.formats import openai_chat
from gateway.formats.common.jsonbody import BodyError

BASE = {"model": "p/m", "messages": [{"role": "user", "content": "hi"}]}


def chunk(
    delta: dict[str, Any] | None = None, usage: dict[str, Any] | None = None, choices: list[Any] | None = None
) -> bytes:
    body = {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta or {}}] if choices is None else choices,
        "usage": usage,
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


USAGE = {
    "prompt_tokens": 10,
    "completion_tokens": 3,
    "total_tokens": 13,
    "prompt_tokens_details": {"cached_tokens": 2},
    "completion_tokens_details": {"reasoning_tokens": 1},
}


def test_relay_drops_the_usage_only_chunk_when_asked_and_reads_it() -> None:
    relay = openai_chat.StreamRelay(drop_usage_chunk=True)
    out = relay.feed(chunk({"content": "a"}) + chunk(choices=[], usage=USAGE) + b"data: [DONE]\n\n")
    assert out == chunk({"content": "a"}) + b"data: [DONE]\n\n"
    assert relay.usage == Usage(10, 3, 2, 1) and relay.done and relay.started


def test_relay_keeps_everything_when_the_client_asked() -> None:
    relay = openai_chat.StreamRelay(drop_usage_chunk=False)
    stream = chunk({"content": "a"}) + chunk(choices=[], usage=USAGE) + b"data: [DONE]\n\n"
    assert relay.feed(stream) == stream and relay.usage == Usage(10, 3, 2, 1)


def test_relay_reads_usage_riding_on_a_content_chunk() -> None:
    relay = openai_chat.StreamRelay(drop_usage_chunk=True)
    data = chunk({"content": "a"}, usage=USAGE)
    assert relay.feed(data) == data and relay.usage is not None


def test_relay_passes_comments_and_does_not_count_them_as_a_start() -> None:
    relay = openai_chat.StreamRelay(drop_usage_chunk=True)
    assert relay.feed(b": keep-alive\n\n") == b": keep-alive\n\n"
    assert not relay.started


def test_relay_notes_an_upstream_error_event() -> None:
    relay = openai_chat.StreamRelay(drop_usage_chunk=True)
    relay.feed(b'data: {"error": {"message": "boom"}}\n\n')
    assert relay.failed and relay.error_payload == b'{"error": {"message": "boom"}}'


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {},
        {"prompt_tokens": -1, "completion_tokens": 2},
        {"prompt_tokens": 1.5, "completion_tokens": 2},
        {"prompt_tokens": "3", "completion_tokens": 2},
        {"prompt_tokens": 10**15, "completion_tokens": 2},
        {"prompt_tokens": True, "completion_tokens": 2},
    ],
)
def test_unbelievable_usage_is_none(raw: object) -> None:
    assert openai_chat.usage_from(raw) is None


def test_usage_with_odd_details_keeps_the_counts() -> None:
    assert openai_chat.usage_from({"prompt_tokens": 4, "completion_tokens": 2, "prompt_tokens_details": None}) == Usage(
        4, 2
    )


def test_upstream_body_rewrites_model_and_asks_for_usage_only_when_streaming() -> None:
    call = openai_chat.parse_request({**BASE, "stream": True, "custom": {"x": 1}})
    body = json.loads(openai_chat.upstream_body(call, "m", ask_usage=True))
    assert body == {
        "model": "m",
        "messages": BASE["messages"],
        "stream": True,
        "custom": {"x": 1},
        "stream_options": {"include_usage": True},
    }
    plain = openai_chat.parse_request(dict(BASE))
    assert "stream_options" not in json.loads(openai_chat.upstream_body(plain, "m", ask_usage=True))
    assert "stream_options" not in json.loads(openai_chat.upstream_body(call, "m", ask_usage=False))


def test_client_stream_options_are_kept() -> None:
    call = openai_chat.parse_request({**BASE, "stream": True, "stream_options": {"include_usage": True, "extra": 1}})
    assert call.wants_usage
    assert json.loads(openai_chat.upstream_body(call, "m", ask_usage=True))["stream_options"] == {
        "include_usage": True,
        "extra": 1,
    }


@pytest.mark.parametrize(
    "body",
    [
        {
            **BASE,
            "messages": [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            ],
        },
        {
            **BASE,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "x"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    ],
                }
            ],
        },
        {
            **BASE,
            "temperature": None,
            "stop": "x",
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "response_format": {"type": "json_object"},
        },
        {**BASE, "model": "openrouter/anthropic/claude-3.5-sonnet:beta"},
        {**BASE, "model": "ollama/llama3.1:8b-instruct-q4_K_M"},
    ],
)
def test_valid_requests_pass(body: dict[str, Any]) -> None:
    assert openai_chat.parse_request(body).model == body["model"]


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        ({"messages": [{"content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": [{"text": "x"}]}]}, "messages[0].content[0].type"),
        ({"messages": [{"role": "user", "content": [5]}]}, "messages[0].content[0]"),
        ({"stop": [1]}, "stop"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"top_p": 1.5}, "top_p"),
        ({"tools": {"type": "function"}}, "tools"),
    ],
)
def test_invalid_requests_name_the_field(patch: dict[str, Any], param: str) -> None:
    with pytest.raises(BodyError) as caught:
        openai_chat.parse_request({**BASE, **patch})
    assert caught.value.param == param


def test_completion_usage() -> None:
    assert openai_chat.completion_usage(json.dumps({"choices": [], "usage": USAGE}).encode()) == Usage(10, 3, 2, 1)
    with pytest.raises(ValueError):
        openai_chat.completion_usage(b"[1]")


@pytest.mark.parametrize(
    "body",
    [
        {"choices": [{"message": {"content": 'text with "usage": {"prompt_tokens": 1} inside'}}], "usage": USAGE},
        {"usage": USAGE, "choices": [{"message": {"content": 'later "usage": 5'}}]},
        {"choices": [], "usage": USAGE, "system_fingerprint": "fp"},
    ],
)
def test_completion_usage_finds_the_real_usage(body: dict[str, Any]) -> None:
    for raw in (json.dumps(body).encode(), json.dumps(body, indent=2).encode()):
        assert openai_chat.completion_usage(raw) == Usage(10, 3, 2, 1)


@pytest.mark.parametrize("raw", [b'{"choices": [', b"<html>x</html>", b"", b"[1, 2]", b'"text"', b'{"a": 1'])
def test_completion_usage_refuses_what_is_not_a_whole_object(raw: bytes) -> None:
    with pytest.raises(ValueError):
        openai_chat.completion_usage(raw)


def test_completion_usage_absent_or_null() -> None:
    assert openai_chat.completion_usage(b'{"choices": []}') is None
    assert openai_chat.completion_usage(b'{"choices": [], "usage": null}') is None


def test_relay_is_not_fooled_by_model_text() -> None:
    relay = openai_chat.StreamRelay(drop_usage_chunk=True)
    tricky = chunk({"content": 'data: [DONE]\n\ndata: {"error": 1} and "usage": {"prompt_tokens": 1}'})
    assert relay.feed(tricky) == tricky
    assert not relay.done and not relay.failed and relay.usage is None


def test_relay_handles_many_events_in_one_read_and_split_reads() -> None:
    stream = (
        chunk({"role": "assistant"}) + chunk({"content": "x"}) + chunk(choices=[], usage=USAGE) + b"data: [DONE]\n\n"
    )
    whole = openai_chat.StreamRelay(drop_usage_chunk=True)
    assert whole.feed(stream) == chunk({"role": "assistant"}) + chunk({"content": "x"}) + b"data: [DONE]\n\n"
    pieces = openai_chat.StreamRelay(drop_usage_chunk=True)
    out = b"".join(pieces.feed(stream[i : i + 7]) for i in range(0, len(stream), 7))
    assert out == chunk({"role": "assistant"}) + chunk({"content": "x"}) + b"data: [DONE]\n\n"
    assert whole.usage == pieces.usage == Usage(10, 3, 2, 1) and whole.done and pieces.done


def test_relay_with_crlf_and_spaced_json() -> None:
    relay = openai_chat.StreamRelay(drop_usage_chunk=True)
    spaced = b'data: {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 1}}\r\n\r\ndata: [DONE]\r\n\r\n'
    assert relay.feed(spaced) == b"data: [DONE]\n\n"
    assert relay.usage == Usage(5, 1) and relay.done


def llamacpp_chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    """A chunk as llama-cpp-python's server sends it: no usage key at all, CRLF line ends."""
    body = {
        "id": "chatcmpl-llama",
        "model": "tiny",
        "created": 1700000000,
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\r\n\r\n"


LLAMACPP_STREAM = llamacpp_chunk({"role": "assistant"}) + llamacpp_chunk({"content": "hi"}) + llamacpp_chunk({}, "stop")


def test_relay_holds_the_end_back_when_the_client_asked_for_usage_and_none_came() -> None:
    relay = openai_chat.StreamRelay(drop_usage_chunk=False, wants_usage=True)
    out = relay.feed(LLAMACPP_STREAM) + relay.feed(b"data: [DONE]\r\n\r\n")
    assert out == LLAMACPP_STREAM.replace(b"\r\n", b"\n")  # everything but the [DONE]
    assert relay.done and relay.owes_usage and relay.usage is None
    counted = Usage(9, 4, estimated=True)
    made, done = relay.end(counted).split(b"\n\n", 1)
    assert done == b"data: [DONE]\n\n"
    assert json.loads(made.removeprefix(b"data: ")) == {
        "id": "chatcmpl-llama",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "tiny",
        "choices": [],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
    }
    # The count becomes the stream's usage, still marked as counted here.
    assert relay.usage == counted and relay.usage.estimated and not relay.owes_usage


def test_relay_holds_the_end_when_it_comes_with_the_last_events_and_usage_is_null() -> None:
    relay = openai_chat.StreamRelay(drop_usage_chunk=False, wants_usage=True)
    stream = chunk({"role": "assistant"}) + chunk({"content": "x"}) + b"data: [DONE]\n\n"  # usage: null on each chunk
    assert relay.feed(stream) == chunk({"role": "assistant"}) + chunk({"content": "x"})
    assert relay.owes_usage and relay.end(None) == b"data: [DONE]\n\n" and relay.usage is None


def test_relay_holds_nothing_back_when_usage_came_or_was_not_asked_for() -> None:
    reported = openai_chat.StreamRelay(drop_usage_chunk=False, wants_usage=True)
    stream = chunk({"content": "a"}) + chunk(choices=[], usage=USAGE) + b"data: [DONE]\n\n"
    assert reported.feed(stream) == stream and not reported.owes_usage
    unasked = openai_chat.StreamRelay(drop_usage_chunk=True)
    assert unasked.feed(LLAMACPP_STREAM + b"data: [DONE]\r\n\r\n").endswith(b"data: [DONE]\n\n")
    assert unasked.done and not unasked.owes_usage
