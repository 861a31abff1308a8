"""What the fake OpenAI upstream answers on ``POST /v1/responses`` (shared/protocols.md §2).

A response object, or its stream: ``response.created``, ``response.in_progress``, then each output
item added / its deltas / done (a reasoning item with summary deltas when reasoning was asked, a
message with ``output_text`` deltas, or two function calls whose arguments stream in pieces),
then ``response.completed`` with the usage (or ``response.incomplete`` when ``max_output_tokens``
cut the answer). Every event repeats its type in the data and has an increasing
``sequence_number``. Stored responses can be continued with ``previous_response_id``.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypedDict

from fakes.agent_script import Brain, Call, Decision

TEXT_PIECES = ("Hello", " from", " the", " Responses", " API!")
TEXT = "".join(TEXT_PIECES)
SUMMARY_PIECES = ("Weighing", " the", " question.")
SUMMARY = "".join(SUMMARY_PIECES)
FUNCTION_CALLS = (
    ("call_resp_aaa", "get_weather", '{"city": "Paris", "unit": "celsius"}'),
    ("call_resp_bbb", "get_time", '{"timezone": "Europe/Paris"}'),
)


class InputDetails(TypedDict):
    cached_tokens: int


class OutputDetails(TypedDict):
    reasoning_tokens: int


class ResponseUsage(TypedDict):
    """A response's usage, as the Responses API words it (read by tests that count tokens)."""

    input_tokens: int
    input_tokens_details: InputDetails
    output_tokens: int
    output_tokens_details: OutputDetails
    total_tokens: int


USAGE: ResponseUsage = {
    "input_tokens": 15,
    "input_tokens_details": {"cached_tokens": 5},
    "output_tokens": 9,
    "output_tokens_details": {"reasoning_tokens": 3},
    "total_tokens": 24,
}
SHORT_LIMIT = 5  # a max_output_tokens below this cuts the answer: status "incomplete"
FAILED = {"code": "server_error", "message": "The model failed to generate a response."}


def _answer(body: dict[str, Any], brain: Brain | None) -> tuple[list[dict[str, Any]], bool]:
    """The output items (complete), and whether max_output_tokens cut them short; ``brain``
    decides them in place of the fixed answer (fakes.agent_script)."""
    items: list[dict[str, Any]] = []
    if (body.get("reasoning") or {}).get("effort") not in (None, "none"):
        summary = [{"type": "summary_text", "text": SUMMARY}] if (body.get("reasoning") or {}).get("summary") else []
        items.append({"type": "reasoning", "id": "rs_fake_0", "summary": summary})
    if brain is not None:
        return [*items, _decided(brain(body))], False
    if body.get("tools") and body.get("tool_choice") != "none":
        for n, (call_id, name, arguments) in enumerate(FUNCTION_CALLS):
            items.append(
                {
                    "type": "function_call",
                    "id": f"fc_fake_{n}",
                    "call_id": call_id,
                    "name": name,
                    "arguments": arguments,
                    "status": "completed",
                }
            )
        return items, False
    limit = body.get("max_output_tokens")
    short = isinstance(limit, int) and limit < SHORT_LIMIT
    text = "".join(TEXT_PIECES[:limit]) if short else TEXT
    items.append(
        {
            "type": "message",
            "id": "msg_fake_0",
            "status": "incomplete" if short else "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
        }
    )
    return items, short


def _decided(decision: Decision) -> dict[str, Any]:
    if isinstance(decision, Call):
        return {
            "type": "function_call",
            "id": f"fc_{decision.id}",
            "call_id": f"call_{decision.id}",
            "name": decision.name,
            "arguments": json.dumps(decision.arguments),
            "status": "completed",
        }
    return {
        "type": "message",
        "id": "msg_fake_0",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": decision.text, "annotations": [], "logprobs": []}],
    }


def response(body: dict[str, Any], rid: str, created: int, brain: Brain | None = None) -> dict[str, Any]:
    items, short = _answer(body, brain)
    return _object(body, rid, created, "incomplete" if short else "completed", items, USAGE)


def _object(
    body: dict[str, Any], rid: str, created: int, status: str, output: list[dict[str, Any]], usage: Any
) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": status,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body["model"],
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {
            "effort": (body.get("reasoning") or {}).get("effort"),
            "summary": (body.get("reasoning") or {}).get("summary"),
        },
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


class _Events:
    def __init__(self) -> None:
        self.out: list[bytes] = []

    def add(self, kind: str, **data: Any) -> None:
        payload = {"type": kind, **data, "sequence_number": len(self.out)}
        self.out.append(f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode())


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def events(body: dict[str, Any], rid: str, created: int, brain: Brain | None = None) -> list[bytes]:
    items, short = _answer(body, brain)
    e = _Events()
    e.add("response.created", response=_object(body, rid, created, "in_progress", [], None))
    e.add("response.in_progress", response=_object(body, rid, created, "in_progress", [], None))
    for index, item in enumerate(items):
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "reasoning":
            e.add("response.output_item.added", output_index=index, item={**item, "summary": []})
            if item["summary"]:
                e.add(
                    "response.reasoning_summary_part.added",
                    **where,
                    summary_index=0,
                    part={"type": "summary_text", "text": ""},
                )
                for piece in SUMMARY_PIECES:
                    e.add("response.reasoning_summary_text.delta", **where, summary_index=0, delta=piece)
                e.add("response.reasoning_summary_text.done", **where, summary_index=0, text=SUMMARY)
                e.add(
                    "response.reasoning_summary_part.done",
                    **where,
                    summary_index=0,
                    part={"type": "summary_text", "text": SUMMARY},
                )
        elif item["type"] == "message":
            text = item["content"][0]["text"]
            e.add(
                "response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []}
            )
            e.add(
                "response.content_part.added",
                **where,
                content_index=0,
                part={"type": "output_text", "text": "", "annotations": []},
            )
            for piece in re.findall(r"\s*\S+", text):  # word by word, as TEXT_PIECES are
                e.add("response.output_text.delta", **where, content_index=0, delta=piece, logprobs=[])
            e.add("response.output_text.done", **where, content_index=0, text=text, logprobs=[])
            e.add("response.content_part.done", **where, content_index=0, part=item["content"][0])
        else:
            e.add(
                "response.output_item.added",
                output_index=index,
                item={**item, "arguments": "", "status": "in_progress"},
            )
            for piece in _pieces(item["arguments"], 6):
                e.add("response.function_call_arguments.delta", **where, delta=piece)
            e.add("response.function_call_arguments.done", **where, name=item["name"], arguments=item["arguments"])
        e.add("response.output_item.done", output_index=index, item=item)
    status = "incomplete" if short else "completed"
    e.add(f"response.{status}", response=_object(body, rid, created, status, items, USAGE))
    return e.out


def failed_event(body: dict[str, Any], rid: str, created: int, sequence: int) -> bytes:
    failed = {**_object(body, rid, created, "failed", [], None), "error": FAILED}
    payload = {"type": "response.failed", "response": failed, "sequence_number": sequence}
    return f"event: response.failed\ndata: {json.dumps(payload)}\n\n".encode()
