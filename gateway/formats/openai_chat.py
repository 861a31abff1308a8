"""OpenAI Chat Completions: request checks, the upstream body, usage, and the stream relay.

Same-protocol requests take the passthrough path (DESIGN.md): the client's JSON goes upstream with
only ``model`` rewritten (and ``stream_options.include_usage`` switched on so usage can be
counted); every other field, known or not, is kept. Responses are relayed untouched while usage is
read on the side.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gateway.core.usage import Usage
from gateway.formats import jsonbody
from gateway.formats.fields import (
    Validator,
    array,
    boolean,
    check_fields,
    either,
    fail,
    integer,
    model_name,
    number,
    obj,
    one_of,
    required,
    string,
)
from gateway.formats.jsonbody import BodyError
from gateway.formats.sse import EventSplitter, event_data

MAX_MESSAGES = 50_000
MAX_TOOLS = 1_024
MAX_PARTS = 10_000
_INT64 = 2**63 - 1

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_NEEDS_CONTENT = frozenset({"system", "developer", "user", "tool"})

_PART = obj({"type": string(64)})
_MESSAGE_FIELDS: dict[str, Validator] = {
    "name": string(256),
    "tool_call_id": string(256),
    "tool_calls": array(obj({"id": string(256), "type": string(64)}), max_items=MAX_TOOLS),
}


def _message(value: Any, param: str) -> None:
    if not isinstance(value, dict):
        raise fail(param, "an object", value)
    role = value.get("role")
    if role is None:
        raise BodyError(f"Missing required parameter: '{param}.role'.", f"{param}.role")
    one_of(*_ROLES)(role, f"{param}.role")
    content = value.get("content")
    if isinstance(content, list):
        array(_PART, max_items=MAX_PARTS)(content, f"{param}.content")
        for i, part in enumerate(content):
            if "type" not in part:
                raise BodyError(
                    f"Missing required parameter: '{param}.content[{i}].type'.",
                    f"{param}.content[{i}].type",
                )
    elif content is None:
        if role in _NEEDS_CONTENT:
            raise BodyError(f"Missing required parameter: '{param}.content'.", f"{param}.content")
    elif not isinstance(content, str):
        raise fail(f"{param}.content", "a string or an array of content parts", content)
    check_fields(value, _MESSAGE_FIELDS, prefix=f"{param}.")


_STOP = either("a string or an array of strings", string(4096), array(string(4096), max_items=16))
_TOOL_CHOICE = either("a string or an object", one_of("none", "auto", "required"), obj())

CHAT_FIELDS: dict[str, Validator] = {
    "stream": boolean,
    "stream_options": obj({"include_usage": boolean}),
    "max_tokens": integer(1, 100_000_000),
    "max_completion_tokens": integer(1, 100_000_000),
    "n": integer(1, 128),
    "temperature": number(0, 2),
    "top_p": number(0, 1),
    "presence_penalty": number(-2, 2),
    "frequency_penalty": number(-2, 2),
    "seed": integer(-_INT64 - 1, _INT64),
    "logprobs": boolean,
    "top_logprobs": integer(0, 20),
    "logit_bias": obj(),
    "stop": _STOP,
    "user": string(512),
    "tools": array(obj({"type": string(64)}), max_items=MAX_TOOLS),
    "tool_choice": _TOOL_CHOICE,
    "parallel_tool_calls": boolean,
    "response_format": obj({"type": string(64)}),
    "reasoning_effort": string(32),
    "metadata": obj(),
    "store": boolean,
}


@dataclass(frozen=True, slots=True)
class ChatCall:
    """A checked Chat Completions request, kept as the client's own JSON."""

    model: str
    stream: bool
    wants_usage: bool  # the client itself asked for the usage chunk
    body: dict[str, Any]


def parse_request(body: dict[str, Any]) -> ChatCall:
    model = required(body, "model", model_name)
    required(body, "messages", array(_message, min_items=1, max_items=MAX_MESSAGES))
    check_fields(body, CHAT_FIELDS)
    stream = body.get("stream") is True
    options = body.get("stream_options")
    if options is not None and not stream:
        raise BodyError("'stream_options' is only allowed when 'stream' is true.", "stream_options")
    wants_usage = bool(options and options.get("include_usage") is True)
    return ChatCall(model=model, stream=stream, wants_usage=wants_usage, body=body)


def upstream_body(call: ChatCall, upstream_model: str, *, ask_usage: bool) -> bytes:
    body = dict(call.body)
    body["model"] = upstream_model
    if call.stream and ask_usage and not call.wants_usage:
        body["stream_options"] = {**(call.body.get("stream_options") or {}), "include_usage": True}
    return jsonbody.encode(body)


def _count(value: Any) -> int | None:
    """A token count only when it is a sane non-negative integer (B42)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**12:
        return None
    return value


def usage_from(raw: Any) -> Usage | None:
    """Usage from an OpenAI ``usage`` object; None when missing or not believable."""
    if not isinstance(raw, dict):
        return None
    prompt = _count(raw.get("prompt_tokens"))
    completion = _count(raw.get("completion_tokens"))
    if prompt is None or completion is None:
        return None
    prompt_details = raw.get("prompt_tokens_details")
    completion_details = raw.get("completion_tokens_details")
    cached = _count(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict) else 0
    reasoning = (
        _count(completion_details.get("reasoning_tokens"))
        if isinstance(completion_details, dict)
        else 0
    )
    return Usage(prompt, completion, cached or 0, reasoning or 0)


def completion_usage(body: bytes) -> Usage | None:
    """Check that a complete response is a JSON object and read its usage.

    Raises ValueError when the body is not a JSON object at all.
    """
    parsed = json.loads(body)
    if not isinstance(parsed, dict):
        raise ValueError("not a JSON object")
    return usage_from(parsed.get("usage"))


_USAGE_NULL = re.compile(rb'"usage"\s*:\s*null')
_ERROR_EVENT = re.compile(rb'^\s*\{\s*"error"\s*:')
_DONE = b"[DONE]"


class StreamRelay:
    """Relays a Chat Completions SSE stream event by event, reading usage on the side.

    ``feed`` takes bytes as they arrive from the upstream and returns the bytes to send to the
    client now: every complete event, except the usage-only chunk when the client did not ask
    for it. Nothing waits for more than the event it belongs to.
    """

    __slots__ = ("_drop_usage_chunk", "_splitter", "done", "error_payload", "started", "usage")

    def __init__(self, *, drop_usage_chunk: bool) -> None:
        self._splitter = EventSplitter()
        self._drop_usage_chunk = drop_usage_chunk
        self.usage: Usage | None = None
        self.started = False  # a data event has been relayed (comments do not count)
        self.done = False  # saw data: [DONE]
        self.error_payload: bytes | None = None  # the upstream's own in-stream error event

    @property
    def failed(self) -> bool:
        return self.error_payload is not None

    def feed(self, data: bytes) -> bytes:
        out: list[bytes] = []
        for event in self._splitter.feed(data):
            if self._keep(event):
                out.append(event)
                out.append(b"\n\n")
        return b"".join(out)

    def _keep(self, event: bytes) -> bool:
        payload = event_data(event)
        if payload is None:
            return True  # comments and keep-alives pass through
        self.started = True
        if payload == _DONE:
            self.done = True
            return True
        if b'"usage"' in payload and not _USAGE_NULL.search(payload):
            try:
                chunk = json.loads(payload)
            except ValueError:
                return True
            if isinstance(chunk, dict):
                self.usage = usage_from(chunk.get("usage")) or self.usage
                if self._drop_usage_chunk and chunk.get("choices") == []:
                    return False
        elif _ERROR_EVENT.match(payload) and self.error_payload is None:
            self.error_payload = payload
        return True

    @property
    def pending(self) -> bytes:
        return self._splitter.pending

