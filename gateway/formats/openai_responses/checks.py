"""OpenAI Responses requests: the checks (protocols.md §2.2), each naming the field it rejects.

Item and tool types the gateway does not know are let through for a Responses upstream (the API
grows); translation to another protocol refuses what it cannot carry (see ``codec``).
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
from gateway.formats.openai_responses import codec
from gateway.formats.openai_responses.items import echoed
from gateway.formats.openai_responses.stream import StreamEncoder
from gateway.formats.openai_responses.tools import ToolNames

MAX_ITEMS = 100_000
MAX_PARTS = 10_000
MAX_TOOLS = 1_024
_TEXT = string(10_000_000)
_PARTS = array(obj({"type": string(64)}), max_items=MAX_PARTS)
_CONTENT = either("a string or an array of content parts", _TEXT, _PARTS)

_ITEM_FIELDS: dict[str, dict[str, Validator]] = {
    "message": {"role": one_of("user", "assistant", "system", "developer"), "content": _CONTENT},
    "function_call": {"call_id": string(256), "name": string(256), "arguments": _TEXT},
    "function_call_output": {"call_id": string(256), "output": _CONTENT},
}
_ITEM_REQUIRED = {
    "message": ("role", "content"),
    "function_call": ("call_id", "name", "arguments"),
    "function_call_output": ("call_id", "output"),
}


def _item(value: Any, param: str) -> None:
    if not isinstance(value, dict):
        raise fail(param, "an object", value)
    kind = value.get("type", "message")
    if not isinstance(kind, str):
        raise fail(f"{param}.type", "a string", kind)
    for name in _ITEM_REQUIRED.get(kind, ()):
        if value.get(name) is None:
            raise BodyError(f"Missing required parameter: '{param}.{name}'.", f"{param}.{name}")
    check_fields(value, _ITEM_FIELDS.get(kind, {}), prefix=f"{param}.")
    content = value.get("content")
    if isinstance(content, list):
        for i, part in enumerate(content):
            if "type" not in part:
                raise BodyError(
                    f"Missing required parameter: '{param}.content[{i}].type'.", f"{param}.content[{i}].type"
                )


def _input(value: Any, param: str) -> None:
    if isinstance(value, str):
        return
    array(None, max_items=MAX_ITEMS)(value, param)
    for i, item in enumerate(value):
        _item(item, f"{param}[{i}]")


RESPONSE_FIELDS: dict[str, Validator] = {
    "instructions": _TEXT,
    "stream": boolean,
    "store": boolean,
    "background": boolean,
    "max_output_tokens": integer(1, 100_000_000),
    "temperature": number(0, 2),
    "top_p": number(0, 1),
    "tools": array(obj({"type": string(64)}), max_items=MAX_TOOLS),
    "tool_choice": either("a string or an object", one_of("none", "auto", "required"), obj({"type": string(64)})),
    "parallel_tool_calls": boolean,
    "reasoning": obj({"effort": string(32), "summary": string(32)}),
    "text": obj({"format": obj({"type": string(64)})}),
    "truncation": one_of("auto", "disabled"),
    "include": array(string(128), max_items=64),
    "previous_response_id": string(256),
    "metadata": obj(),
    "user": string(512),
    "safety_identifier": string(512),
    "prompt_cache_key": string(512),
    "service_tier": string(32),
}


@dataclass(frozen=True, slots=True)
class ResponsesCall:
    """A checked Responses request, kept as the client's own JSON."""

    protocol: ClassVar[ProtocolId] = "openai-responses"

    model: str
    stream: bool
    body: dict[str, Any]
    source: jsonbody.Body | None = None  # the client's bytes, kept for the passthrough

    def canonical(self) -> ChatRequest:
        return codec.decode_request(self.body)

    def encode_answer(self, answer: ChatResponse, timing: Timing) -> bytes:
        names = ToolNames(self.body.get("tools"))
        return jsonbody.encode(codec.encode_response(answer, self.model, timing.created, echoed(self.body), names))

    def stream_encoder(self, timing: Timing) -> StreamEncoder:
        return StreamEncoder(self.model, timing.created, echoed(self.body), ToolNames(self.body.get("tools")))


def parse_request(body: dict[str, Any], source: jsonbody.Body | None = None) -> ResponsesCall:
    model = required(body, "model", model_name)
    required(body, "input", _input)
    check_fields(body, RESPONSE_FIELDS)
    return ResponsesCall(model=model, stream=body.get("stream") is True, body=body, source=source)
