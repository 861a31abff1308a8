"""OpenAI Chat Completions requests: the checks, and the body that goes upstream unchanged.

Same-protocol requests take the passthrough path (DESIGN.md): the client's JSON goes upstream with
only ``model`` rewritten (and ``stream_options.include_usage`` switched on so usage can be
counted); every other field, known or not, is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.protocols import ProtocolId
from gateway.core.timing import Timing
from gateway.formats.common import jsonbody
from gateway.formats.common.fields import (
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
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.openai_chat import codec
from gateway.formats.openai_chat.stream import StreamEncoder

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

    protocol: ClassVar[ProtocolId] = "openai-chat"

    model: str
    stream: bool
    wants_usage: bool  # the client itself asked for the usage chunk
    body: dict[str, Any]
    source: jsonbody.Body | None = None  # the client's bytes, kept for the passthrough

    def canonical(self) -> ChatRequest:
        return codec.decode_request(self.body)

    def encode_answer(self, answer: ChatResponse, timing: Timing) -> bytes:
        return jsonbody.encode(codec.encode_response(answer, self.model, timing.created))

    def stream_encoder(self, timing: Timing) -> StreamEncoder:
        return StreamEncoder(self.model, timing.created, include_usage=self.wants_usage)


def parse_request(body: dict[str, Any], source: jsonbody.Body | None = None) -> ChatCall:
    model = required(body, "model", model_name)
    required(body, "messages", _messages)
    check_fields(body, CHAT_FIELDS)
    stream = body.get("stream") is True
    options = body.get("stream_options")
    if options is not None and not stream:
        raise BodyError("'stream_options' is only allowed when 'stream' is true.", "stream_options")
    wants_usage = bool(options and options.get("include_usage") is True)
    return ChatCall(model=model, stream=stream, wants_usage=wants_usage, body=body, source=source)


def upstream_body(call: ChatCall, upstream_model: str, *, ask_usage: bool) -> bytes:
    """The client's body for the upstream: its own bytes with the model replaced, and the usage
    chunk asked for when the gateway needs it and the client did not ask."""
    if not (call.stream and ask_usage and not call.wants_usage):
        return jsonbody.with_model(call.source, call.body, upstream_model)
    if "stream_options" not in call.body:
        return jsonbody.with_member(
            jsonbody.with_model(call.source, call.body, upstream_model), "stream_options", {"include_usage": True}
        )
    options = {**(call.body["stream_options"] or {}), "include_usage": True}  # null: as if absent, as in the API
    return jsonbody.encode({**call.body, "model": upstream_model, "stream_options": options})
