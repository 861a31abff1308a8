"""OpenAI Chat Completions: request checks, the upstream body, usage, and the stream relay.

Same-protocol requests take the passthrough path (DESIGN.md): the client's JSON goes upstream with
only ``model`` rewritten (and ``stream_options.include_usage`` switched on so usage can be
counted); every other field, known or not, is kept. Responses are relayed untouched while usage is
read on the side.
"""

from __future__ import annotations

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

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_NEEDS_CONTENT = frozenset({"system", "developer", "user", "tool"})

_PART = obj({"type": string(64)})
_MESSAGE_FIELDS: dict[str, Validator] = {
    "name": string(256),
    "tool_call_id": string(256),
    "tool_calls": array(obj({"id": string(256), "type": string(64)}), max_items=MAX_TOOLS),
}


def _short_str(value: Any) -> bool:
    return type(value) is str and len(value) <= 256


def _plain_message(m: Any) -> bool:
    """The common, valid message shapes, checked without building any error text.

    Anything else goes through ``_message``, which finds and names what is wrong.
    """
    if type(m) is not dict:
        return False
    role = m.get("role")
    if type(role) is not str or role not in _ROLES:
        return False
    content = m.get("content")
    if type(content) is list:
        if len(content) > MAX_PARTS:
            return False
        for part in content:
            if type(part) is not dict or type(kind := part.get("type")) is not str or len(kind) > 64:
                return False
    elif content is None:
        if role in _NEEDS_CONTENT:
            return False
    elif type(content) is not str:
        return False
    if len(m) == 2:  # role and content only: the usual case
        return True
    if "tool_calls" in m:
        return False
    name, call_id = m.get("name"), m.get("tool_call_id")
    return (name is None or _short_str(name)) and (call_id is None or _short_str(call_id))


def _message(value: Any, param: str) -> None:
    if not isinstance(value, dict):
        raise fail(param, "an object", value)
    role = value.get("role")
    if role is None:
        raise BodyError(f"Missing required parameter: '{param}.role'.", f"{param}.role")
    one_of(*sorted(_ROLES))(role, f"{param}.role")
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


def _messages(value: Any, param: str) -> None:
    if type(value) is not list or not 1 <= len(value) <= MAX_MESSAGES:
        array(None, min_items=1, max_items=MAX_MESSAGES)(value, param)
    for i, message in enumerate(value):
        if not _plain_message(message):
            _message(message, f"{param}[{i}]")


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
    required(body, "messages", _messages)
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
    return value if type(value) is int and 0 <= value < 10**12 else None


def usage_from(raw: Any) -> Usage | None:
    """Usage from an OpenAI ``usage`` object; None when missing or not believable."""
    if type(raw) is not dict:
        return None
    prompt = _count(raw.get("prompt_tokens"))
    completion = _count(raw.get("completion_tokens"))
    if prompt is None or completion is None:
        return None
    cached = reasoning = 0
    if type(details := raw.get("prompt_tokens_details")) is dict:
        cached = _count(details.get("cached_tokens")) or 0
    if type(details := raw.get("completion_tokens_details")) is dict:
        reasoning = _count(details.get("reasoning_tokens")) or 0
    return Usage(prompt, completion, cached, reasoning)


def completion_usage(body: bytes) -> Usage | None:
    """Check that a complete answer is a JSON object and read its usage.

    Raises ValueError when the body is not a JSON object (truncated, an HTML page, ...).
    """
    parsed = jsonbody.loads(body)
    if not isinstance(parsed, dict):
        raise ValueError("not a JSON object")
    return usage_from(parsed.get("usage"))


_DONE = b"[DONE]"
_USAGE_KEY = b'"usage"'

# Markers are found with a plain search and then confirmed against the event's whole data, so
# text a model writes (even "data: [DONE]") never counts.
_ERROR_PAYLOAD = re.compile(rb'\s*\{\s*"error"\s*:')
# A usage object (not null). Inside a JSON string the quotes would be escaped, so this is a key.
_USAGE_OBJECT = re.compile(rb'"usage"\s*:\s*\{')


def _event_bounds(block: bytes, at: int) -> tuple[int, int]:
    """Start and end (after its blank line) of the event holding position ``at``."""
    start = block.rfind(b"\n\n", 0, at)
    end = block.find(b"\n\n", at)
    return (0 if start < 0 else start + 2), (len(block) if end < 0 else end + 2)


def _data_at(block: bytes, at: int) -> bytes | None:
    """The data of the event holding position ``at`` (None when ``at`` is -1), stripped."""
    if at < 0:
        return None
    start, end = _event_bounds(block, at)
    data = event_data(block[start:end].strip(b"\n"))
    return data.strip() if data is not None else None


_DONE_EVENT = b"data: [DONE]\n\n"


def _ends_done(block: bytes) -> bool:
    """The usual shape: [DONE] is the block's last event."""
    size = len(_DONE_EVENT)
    return block.endswith(_DONE_EVENT) and (len(block) == size or block[-size - 2 : -size] == b"\n\n")


def _error_in(block: bytes) -> bytes | None:
    """An upstream error event, looked for where one can be: first (the upstream failed at once,
    so it can still become a proper status) or last (an error ends a stream). Only those two
    events are searched, never the whole block."""
    at = block.find(b'"error"', 0, block.find(b"\n\n"))
    if at < 0:
        last_start = block.rfind(b"\n\n", 0, len(block) - 2)
        at = block.find(b'"error"', last_start) if last_start >= 0 else -1
    data = _data_at(block, at)
    return data if data is not None and _is_error(data) else None


def _is_error(data: bytes) -> bool:
    return _ERROR_PAYLOAD.match(data) is not None


class StreamRelay:
    """Relays a Chat Completions SSE stream event by event, reading usage on the side.

    ``feed`` takes bytes as they arrive from the upstream and returns the bytes to send to the
    client now: every complete event, except the usage-only chunk when the client did not ask
    for it. Events are found by position, so a block of many events costs a few searches, not a
    parse each; only an event that holds a usage object is parsed.
    """

    __slots__ = ("_drop_usage_chunk", "_splitter", "done", "error_payload", "started", "usage")

    def __init__(self, *, drop_usage_chunk: bool) -> None:
        self._splitter = EventSplitter()
        self._drop_usage_chunk = drop_usage_chunk
        self.usage: Usage | None = None
        self.started = False  # a data event has arrived (comments do not count)
        self.done = False  # saw data: [DONE]
        self.error_payload: bytes | None = None  # the upstream's own in-stream error event

    @property
    def failed(self) -> bool:
        return self.error_payload is not None

    def feed(self, data: bytes) -> bytes:
        block = self._splitter.take(data)
        if not block:
            return b""
        # Every marker is looked for from the end or within one event: blocks can be large
        # (a whole answer in one read) and a scan of each for each marker would add up.
        if not self.started and b"data:" in block:
            self.started = True
        if not self.done:
            self.done = _ends_done(block) or _data_at(block, block.rfind(_DONE)) == _DONE
        if self.error_payload is None:
            self.error_payload = _error_in(block)
        at = block.rfind(_USAGE_KEY)
        return block if at < 0 else self._read_usage(block, at)

    def _read_usage(self, block: bytes, at: int) -> bytes:
        """Read the block's last usage object and cut it if it is a usage-only chunk the client
        did not ask for. The last report is the one that counts (some servers send running
        totals on every chunk), and a usage-only chunk is always a stream's last content."""
        while at >= 0:
            if _USAGE_OBJECT.match(block, at):
                start, end = _event_bounds(block, at)
                try:
                    chunk = jsonbody.loads(event_data(block[start:end].strip(b"\n")) or b"")
                except ValueError:
                    chunk = None
                if isinstance(chunk, dict):
                    self.usage = usage_from(chunk.get("usage")) or self.usage
                    if self._drop_usage_chunk and chunk.get("choices") == []:
                        return block[:start] + block[end:]
                    return block
            at = block.rfind(_USAGE_KEY, 0, at)
        return block
