"""The most output tokens a request asks for, read and rewritten in its own protocol's field:
``max_completion_tokens`` or ``max_tokens`` (Chat Completions), ``max_output_tokens`` (Responses),
``max_tokens`` (Messages), ``options.num_predict`` (Ollama)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from gateway.core.protocols import ProtocolId
from gateway.formats.interfaces import ClientCall

C = TypeVar("C", bound=ClientCall)

_FIELDS: dict[ProtocolId, tuple[tuple[str, ...], ...]] = {
    "openai-chat": (("max_completion_tokens",), ("max_tokens",)),
    "openai-responses": (("max_output_tokens",),),
    "anthropic": (("max_tokens",),),
    "ollama": (("options", "num_predict"),),
    "ollama-generate": (("options", "num_predict"),),
}


def _find(call: ClientCall) -> tuple[tuple[str, ...], int] | None:
    for path in _FIELDS.get(call.protocol, ()):
        value: Any = call.body
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if type(value) is int and value > 0:
            return path, value
    return None


def output_limit(call: ClientCall) -> int | None:
    found = _find(call)
    return None if found is None else found[1]


def with_output_limit(call: C, limit: int) -> C:
    """The call asking for ``limit`` output tokens instead; its body is encoded anew."""
    found = _find(call)
    if found is None:
        return call
    path = found[0]
    body = dict(call.body)
    inner = body
    for key in path[:-1]:
        inner[key] = dict(inner[key])
        inner = inner[key]
    inner[path[-1]] = limit
    new: C = replace(call, body=body, source=None)  # type: ignore[type-var]
    return new
