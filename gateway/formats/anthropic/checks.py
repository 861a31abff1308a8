"""Anthropic Messages requests: the checks (protocols.md §3.2), each naming the field it rejects.

Block types the gateway does not know are let through for an Anthropic upstream (the API grows);
translation to another protocol refuses what it cannot carry (see ``codec``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.protocols import ProtocolId
from gateway.core.timing import Timing
from gateway.formats.anthropic import codec
from gateway.formats.anthropic.stream import StreamEncoder
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

MAX_MESSAGES = 50_000
MAX_BLOCKS = 10_000
MAX_TOOLS = 1_024

_BLOCK = obj({"type": string(64)})
_BLOCKS = array(_BLOCK, max_items=MAX_BLOCKS)
_SYSTEM = either(
    "a string or an array of text blocks",
    string(10_000_000),
    array(obj({"type": string(64), "text": string(10_000_000)}), max_items=MAX_BLOCKS),
)


def _message(value: Any, param: str) -> None:
    if not isinstance(value, dict):
        raise fail(param, "an object", value)
    role = value.get("role")
    if role is None:
        raise BodyError(f"{param}.role: Field required", f"{param}.role")
    # "system" mid-conversation: Claude Code's beta mid-conversation-system-2026-04-07.
    one_of("user", "assistant", "system")(role, f"{param}.role")
    content = value.get("content")
    if content is None:
        raise BodyError(f"{param}.content: Field required", f"{param}.content")
    if isinstance(content, list):
        _BLOCKS(content, f"{param}.content")
        for i, block in enumerate(content):
            if "type" not in block:
                raise BodyError(f"{param}.content.{i}.type: Field required", f"{param}.content.{i}.type")
    elif not isinstance(content, str):
        raise fail(f"{param}.content", "a string or an array of content blocks", content)


def _messages(value: Any, param: str) -> None:
    array(None, min_items=1, max_items=MAX_MESSAGES)(value, param)
    for i, message in enumerate(value):
        _message(message, f"{param}.{i}")


MESSAGE_FIELDS: dict[str, Validator] = {
    "system": _SYSTEM,
    "max_tokens": integer(1, 100_000_000),
    "stream": boolean,
    "stop_sequences": array(string(4096), max_items=64),
    "temperature": number(0, 1),
    "top_p": number(0, 1),
    "top_k": integer(0, 1_000_000),
    "tools": array(obj({"name": string(256)}), max_items=MAX_TOOLS),
    "tool_choice": obj(
        {"type": one_of("auto", "any", "tool", "none"), "name": string(256), "disable_parallel_tool_use": boolean}
    ),
    "thinking": obj({"type": string(32), "budget_tokens": integer(0, 100_000_000)}),
    "output_config": obj({"effort": string(32)}),
    "metadata": obj({"user_id": string(512)}),
}


@dataclass(frozen=True, slots=True)
class MessagesCall:
    """A checked Messages request, kept as the client's own JSON, with the version headers it
    came with (they go to an Anthropic upstream unchanged)."""

    protocol: ClassVar[ProtocolId] = "anthropic"

    model: str
    stream: bool
    body: dict[str, Any]
    version: str | None = None
    beta: str | None = None
    source: jsonbody.Body | None = None  # the client's bytes, kept for the passthrough

    def canonical(self) -> ChatRequest:
        return codec.decode_request(self.body)

    def encode_answer(self, answer: ChatResponse, timing: Timing) -> bytes:
        return jsonbody.encode(codec.encode_response(answer, self.model))

    def stream_encoder(self, timing: Timing, prompt_tokens: int = 0) -> StreamEncoder:
        """``prompt_tokens``: the prompt as counted here, for ``message_start`` (see ``stream``)."""
        return StreamEncoder(self.model, prompt_tokens)


_HEADER_VALUE = string(512)


def parse_request(
    body: dict[str, Any],
    *,
    needs_max_tokens: bool = True,
    version: str | None = None,
    beta: str | None = None,
    source: jsonbody.Body | None = None,
) -> MessagesCall:
    """Check a /v1/messages body (``needs_max_tokens=False`` for /v1/messages/count_tokens)."""
    model = required(body, "model", model_name)
    if needs_max_tokens:
        required(body, "max_tokens", integer(1, 100_000_000))
    required(body, "messages", _messages)
    check_fields(body, MESSAGE_FIELDS)
    for name, value in (("anthropic-version", version), ("anthropic-beta", beta)):
        if value is not None:
            _HEADER_VALUE(value, name)
    return MessagesCall(
        model=model, stream=body.get("stream") is True, body=body, version=version, beta=beta, source=source
    )
