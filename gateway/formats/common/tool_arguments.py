"""A tool call's arguments, JSON text in canonical form, as the object Messages and Ollama want."""

from __future__ import annotations

from typing import Any

from gateway.core.chat import ToolCall
from gateway.formats.common import jsonbody
from gateway.formats.common.jsonbody import BodyError


def arguments_object(call: ToolCall, param: str | None) -> dict[str, Any]:
    """Invalid JSON in a request is the client's error (400, naming ``param``); in an answer it is
    the model's, and is kept as text under ``_raw``. A JSON value that is not an object is kept
    under ``value``."""
    if not call.arguments.strip():
        return {}
    try:
        value = jsonbody.loads(call.arguments)
    except ValueError:
        if param is None:
            return {"_raw": call.arguments}
        raise BodyError(f"'{param}' of tool call {call.id!r} is not valid JSON.", param) from None
    return value if isinstance(value, dict) else {"value": value}


def arguments_text(value: Any) -> str:
    """Arguments given as an object, as canonical JSON text."""
    return jsonbody.encode(value if value is not None else {}).decode()
