"""Ollama requests: the checks (protocols.md §4), each naming the field it rejects."""

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
from gateway.formats.ollama import codec
from gateway.formats.ollama.stream import StreamEncoder

MAX_MESSAGES = 50_000
MAX_TOOLS = 1_024
_TEXT = string(10_000_000)
_IMAGES = array(string(50_000_000), max_items=256)

_MESSAGE_FIELDS: dict[str, Validator] = {
    "content": _TEXT,
    "thinking": _TEXT,
    "images": _IMAGES,
    "tool_calls": array(obj({"function": obj({"name": string(256), "arguments": obj()})}), max_items=MAX_TOOLS),
    "tool_name": string(256),
    "tool_call_id": string(256),
}


def _messages(value: Any, param: str) -> None:
    array(None, max_items=MAX_MESSAGES)(value, param)
    for i, message in enumerate(value):
        where = f"{param}[{i}]"
        if not isinstance(message, dict):
            raise fail(where, "an object", message)
        if message.get("role") is None:
            raise BodyError(f"{where}.role is required", f"{where}.role")
        one_of("system", "user", "assistant", "tool")(message["role"], f"{where}.role")
        check_fields(message, _MESSAGE_FIELDS, prefix=f"{where}.")


_OPTIONS = obj(
    {
        "temperature": number(0, 100),
        "top_p": number(0, 1),
        "top_k": integer(0, 1_000_000),
        "num_predict": integer(-2, 100_000_000),
        "num_ctx": integer(1, 100_000_000),
        "seed": integer(-(2**63), 2**63 - 1),
        "stop": either("a string or an array of strings", string(4096), array(string(4096), max_items=64)),
    }
)
_COMMON: dict[str, Validator] = {
    "stream": boolean,
    "think": either("true, false or a level", boolean, one_of("low", "medium", "high", "max")),
    "format": either('"json" or a JSON schema', one_of("json"), obj()),
    "options": _OPTIONS,
    "keep_alive": either("a duration", string(32), number(-1, 10**12)),
}
CHAT_FIELDS: dict[str, Validator] = {
    **_COMMON,
    "tools": array(obj({"function": obj({"name": string(256)})}), max_items=MAX_TOOLS),
}
GENERATE_FIELDS: dict[str, Validator] = {
    **_COMMON,
    "prompt": _TEXT,
    "suffix": _TEXT,
    "system": _TEXT,
    "template": _TEXT,
    "images": _IMAGES,
    "raw": boolean,
    "context": array(None, max_items=10_000_000),
}


@dataclass(frozen=True, slots=True)
class OllamaChatCall:
    """A checked /api/chat request, kept as the client's own JSON. ``stream`` is on unless the
    client switched it off, as in Ollama."""

    protocol: ClassVar[ProtocolId] = "ollama"

    model: str
    stream: bool
    body: dict[str, Any]
    source: jsonbody.Body | None = None  # the client's bytes, kept for the passthrough

    def canonical(self) -> ChatRequest:
        return codec.decode_chat(self.body)

    def encode_answer(self, answer: ChatResponse, timing: Timing) -> bytes:
        return jsonbody.encode(codec.encode_response(answer, self.model, timing, generate=False))

    def stream_encoder(self, timing: Timing) -> StreamEncoder:
        return StreamEncoder(self.model, timing, generate=False)


@dataclass(frozen=True, slots=True)
class OllamaGenerateCall:
    """A checked /api/generate request: a prompt, always answered through the canonical form."""

    protocol: ClassVar[ProtocolId] = "ollama-generate"

    model: str
    stream: bool
    body: dict[str, Any]
    source: jsonbody.Body | None = None

    @property
    def loads_only(self) -> bool:
        """An empty prompt asks Ollama to load the model, and nothing more."""
        return not self.body.get("prompt") and not self.body.get("images")

    def canonical(self) -> ChatRequest:
        return codec.decode_generate(self.body)

    def encode_answer(self, answer: ChatResponse, timing: Timing) -> bytes:
        return jsonbody.encode(codec.encode_response(answer, self.model, timing, generate=True))

    def stream_encoder(self, timing: Timing) -> StreamEncoder:
        return StreamEncoder(self.model, timing, generate=True)


def _model(body: dict[str, Any]) -> str:
    # Older clients name the model "name".
    if body.get("model") is None and body.get("name") is not None:
        body = {**body, "model": body["name"]}
    return str(required(body, "model", model_name))


def parse_chat(body: dict[str, Any], source: jsonbody.Body | None = None) -> OllamaChatCall:
    model = _model(body)
    required(body, "messages", _messages)
    check_fields(body, CHAT_FIELDS)
    return OllamaChatCall(model, body.get("stream") is not False, body, source)


def parse_generate(body: dict[str, Any], source: jsonbody.Body | None = None) -> OllamaGenerateCall:
    model = _model(body)
    check_fields(body, GENERATE_FIELDS)
    return OllamaGenerateCall(model, body.get("stream") is not False, body, source)


@dataclass(frozen=True, slots=True)
class EmbedCall:
    model: str
    inputs: tuple[str, ...]
    legacy: bool  # /api/embeddings: one prompt in, one vector out
    dimensions: int | None = None


def parse_embed(body: dict[str, Any], source: jsonbody.Body | None = None, *, legacy: bool = False) -> EmbedCall:
    model = _model(body)
    if legacy:
        prompt = required(body, "prompt", _TEXT)
        return EmbedCall(model, (prompt,), legacy=True)
    value = required(
        body, "input", either("a string or an array of strings", _TEXT, array(_TEXT, min_items=1, max_items=2048))
    )
    check_fields(
        body,
        {
            "truncate": boolean,
            "dimensions": integer(1, 65_536),
            "options": _OPTIONS,
            "keep_alive": _COMMON["keep_alive"],
        },
    )
    return EmbedCall(
        model, (value,) if isinstance(value, str) else tuple(value), legacy=False, dimensions=body.get("dimensions")
    )


def parse_show(body: dict[str, Any], source: jsonbody.Body | None = None) -> str:
    check_fields(body, {"verbose": boolean})
    return _model(body)
