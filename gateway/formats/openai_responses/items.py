"""The response object a Responses client gets, and its output items: built the same way for a
whole answer (``codec.encode_response``) and, item by item, for a stream (``stream``). A call to a
namespaced or custom tool is written as the client named it (``tools.ToolNames``)."""

from __future__ import annotations

from typing import Any

from gateway.core.chat import FinishReason, Reasoning, TextPart, ToolCall
from gateway.core.usage import Usage
from gateway.formats.common.jsonbody import as_object
from gateway.formats.openai_responses.tools import ToolNames, custom_input
from gateway.formats.openai_responses.usage import usage_object


def response_id(upstream_id: str) -> str:
    return upstream_id if upstream_id.startswith("resp_") else f"resp_{upstream_id}"


def echoed(body: dict[str, Any]) -> dict[str, Any]:
    """The request settings a response object repeats back, with the API's defaults."""
    return {
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": {
            "effort": as_object(body.get("reasoning")).get("effort"),
            "summary": as_object(body.get("reasoning")).get("summary"),
        },
        "store": False,  # nothing is kept: the gateway holds no state
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation") or "disabled",
        "metadata": body.get("metadata") or {},
        "user": body.get("user"),
    }


def response_object(
    rid: str,
    model: str,
    created: int,
    echo: dict[str, Any],
    *,
    status: str,
    output: list[dict[str, Any]],
    usage: Usage | None,
    finish: FinishReason | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    incomplete = None
    if status == "incomplete":
        incomplete = {"reason": "content_filter" if finish in ("content_filter", "refusal") else "max_output_tokens"}
    return {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": status,
        "error": error,
        "incomplete_details": incomplete,
        "model": model,
        "output": output,
        **echo,
        "usage": usage_object(usage) if usage is not None else None,
    }


def status_of(finish: FinishReason | None) -> str:
    return "incomplete" if finish in ("length", "content_filter") else "completed"


def output_items(
    parts: tuple[TextPart | Reasoning | ToolCall, ...], rid: str, names: ToolNames | None = None
) -> list[dict[str, Any]]:
    """An answer's parts as output items; consecutive text joins one message; a call to a
    namespaced or custom tool as the client named it (``names``)."""
    items: list[dict[str, Any]] = []
    base = rid.removeprefix("resp_")
    for part in parts:
        n = len(items)
        if isinstance(part, TextPart):
            last = items[-1] if items else None
            if last is not None and last["type"] == "message":
                last["content"][0]["text"] += part.text
            else:
                items.append(message_item(f"msg_{base}_{n}", part.text, "completed"))
        elif isinstance(part, ToolCall):
            items.append(call_item(f"fc_{base}_{n}", part.id, part.name, part.arguments, "completed", names))
        elif part.text:
            items.append(reasoning_item(f"rs_{base}_{n}", part.text))
    return items


def message_item(item_id: str, text: str, status: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
    return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": content}


def call_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str, names: ToolNames | None = None
) -> dict[str, Any]:
    tool = names.client(name) if names is not None else None
    if tool is not None and tool.custom:
        return {
            "type": "custom_tool_call",
            "id": item_id,
            "call_id": call_id,
            "name": tool.name,
            "input": custom_input(arguments),
            "status": status,
        }
    item = {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }
    if tool is not None:
        item.update(name=tool.name, namespace=tool.namespace)
    return item


def reasoning_item(item_id: str, text: str) -> dict[str, Any]:
    return {"type": "reasoning", "id": item_id, "summary": [{"type": "summary_text", "text": text}] if text else []}
