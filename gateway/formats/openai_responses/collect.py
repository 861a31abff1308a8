"""A whole Responses answer gathered from its stream, for an upstream that only streams (the
ChatGPT subscription endpoint) and a client that asked for one answer.

The terminal event carries the response object; its ``output`` is taken from the
``response.output_item.done`` events when the terminal event leaves it empty, as some servers do.
A ``response.failed`` or ``error`` event becomes the upstream's error.
"""

from __future__ import annotations

from typing import Any

from gateway.formats.common import jsonbody
from gateway.formats.common.jsonbody import as_object
from gateway.formats.common.sse import EventSplitter, objects_in
from gateway.formats.openai_responses.stream import upstream_error

_TERMINAL = ("response.completed", "response.incomplete")


def collect(stream: bytes, provider: str) -> bytes:
    """The response object as JSON; raises ValueError when the stream never finished."""
    block = EventSplitter().take(stream if stream.endswith(b"\n\n") else stream + b"\n\n")
    items: dict[int, dict[str, Any]] = {}
    final: dict[str, Any] | None = None
    for payload, _ in objects_in(block):
        kind = payload.get("type")
        if kind == "response.output_item.done":
            index = payload.get("output_index")
            item = as_object(payload.get("item"))
            if item:
                items[index if isinstance(index, int) else len(items)] = item
        elif kind in _TERMINAL:
            final = as_object(payload.get("response"))
        elif kind in ("response.failed", "error"):
            raise upstream_error(provider, payload)
    if not final:
        raise ValueError("the stream ended before the response was complete")
    if not final.get("output") and items:
        final = {**final, "output": [items[i] for i in sorted(items)]}
    return jsonbody.encode(final)
