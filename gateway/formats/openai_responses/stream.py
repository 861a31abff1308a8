"""OpenAI Responses streams (protocols.md §2.4): decoding, encoding, and the passthrough relay.

- ``StreamDecoder``: a Responses upstream's SSE into canonical events. Usage arrives only with
  the terminal ``response.completed`` / ``response.incomplete``.
- ``StreamEncoder``: canonical events as a Responses stream for a Responses client:
  ``response.created``, ``response.in_progress``, each output item added / its deltas / done, one
  item after another (through a ``Sequencer``), then ``response.completed`` (or
  ``response.incomplete``) carrying the whole response and its usage. Every event has an
  increasing ``sequence_number``; a failure ends the stream with ``response.failed``.
- ``Relay``: a Responses stream to a Responses client, untouched, with usage read on the side.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gateway.core.chat import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gateway.core.usage import Usage
from gateway.errors import GatewayError, UpstreamStatus
from gateway.formats.common import jsonbody
from gateway.formats.common.jsonbody import as_object
from gateway.formats.common.relay_state import RelayState
from gateway.formats.common.sequencer import Sequencer
from gateway.formats.common.sse import KEEP_ALIVE, EventSplitter, check_json, objects_in
from gateway.formats.openai_responses.codec import finish_of
from gateway.formats.openai_responses.items import (
    call_item,
    message_item,
    reasoning_item,
    response_id,
    response_object,
    status_of,
)
from gateway.formats.openai_responses.tools import ToolNames
from gateway.formats.openai_responses.usage import usage_from

_TERMINAL = frozenset({"response.completed", "response.incomplete"})


def _error_status(code: str) -> int:
    if "rate_limit" in code or "quota" in code:
        return 429
    return 500 if code in ("server_error", "server_is_overloaded") else 502


def upstream_error(provider: str, payload: dict[str, Any]) -> UpstreamStatus:
    """``response.failed`` (the error inside the response) or a bare ``error`` event."""
    error = as_object(as_object(payload.get("response")).get("error")) or payload
    code = str(error.get("code") or error.get("type") or "server_error")
    return UpstreamStatus(
        f"{provider}: {error.get('message') or 'the response failed'}",
        provider=provider,
        status=_error_status(code),
        error_type=code,
        code=code,
    )


def failed_event(sequence: int, response: dict[str, Any]) -> bytes:
    return _sse("response.failed", sequence, {"response": response})


def _failure_error(err: GatewayError) -> dict[str, Any]:
    return {"code": err.code or err.error_type, "message": err.message}


def _sse(kind: str, sequence: int, payload: dict[str, Any]) -> bytes:
    data = jsonbody.encode({"type": kind, "sequence_number": sequence, **payload})
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


# --- decoding -------------------------------------------------------------------------------


class StreamDecoder:
    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._splitter = EventSplitter()
        self._tool_of_item: dict[str, int] = {}  # function_call item id -> canonical call index
        self._with_arguments: set[int] = set()  # calls whose arguments have begun to arrive

    def feed(self, data: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for payload, _ in objects_in(self._splitter.take(data)):
            self._event(payload, events)
        return events

    def _tool(self, payload: dict[str, Any]) -> int | None:
        return self._tool_of_item.get(str(payload.get("item_id") or ""))

    def _start_call(self, item: dict[str, Any], events: list[StreamEvent]) -> int:
        tool = len(self._tool_of_item)
        self._tool_of_item[str(item.get("id") or f"item-{tool}")] = tool
        events.append(
            ToolCallStart(tool, str(item.get("call_id") or item.get("id") or ""), str(item.get("name") or ""))
        )
        return tool

    def _arguments(self, tool: int | None, arguments: Any, events: list[StreamEvent]) -> None:
        if tool is not None and isinstance(arguments, str) and arguments:
            self._with_arguments.add(tool)
            events.append(ToolCallDelta(tool, arguments))

    def _event(self, payload: dict[str, Any], events: list[StreamEvent]) -> None:
        kind = payload.get("type")
        delta = payload.get("delta")
        if kind in ("response.output_text.delta", "response.refusal.delta"):
            if isinstance(delta, str) and delta:
                events.append(TextDelta(delta))
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            if isinstance(delta, str) and delta:
                events.append(ReasoningDelta(delta))
        elif kind == "response.function_call_arguments.delta":
            self._arguments(self._tool(payload), delta, events)
        elif kind == "response.function_call_arguments.done":
            tool = self._tool(payload)
            if tool is not None and tool not in self._with_arguments:  # sent whole, never in pieces
                self._arguments(tool, payload.get("arguments"), events)
        elif kind in ("response.output_item.added", "response.output_item.done"):
            item = as_object(payload.get("item"))
            if item.get("type") == "function_call" and str(item.get("id") or "") not in self._tool_of_item:
                tool = self._start_call(item, events)
                self._arguments(tool, item.get("arguments"), events)
        elif kind == "response.created":
            response = as_object(payload.get("response"))
            events.append(StreamStart(str(response.get("id") or ""), str(response.get("model") or "")))
        elif kind in _TERMINAL:
            response = as_object(payload.get("response"))
            events.append(Finish(finish_of(response, bool(self._tool_of_item))))
            usage = usage_from(response.get("usage"))
            if usage is not None:
                events.append(UsageReport(usage))
            events.append(StreamEnd())
        elif kind in ("response.failed", "error"):
            raise upstream_error(self._provider, payload)


# --- encoding -------------------------------------------------------------------------------


class StreamEncoder:
    def __init__(self, model: str, created: int, echo: dict[str, Any], names: ToolNames | None = None) -> None:
        self._model = model
        self._names = names  # namespaced and custom tools, answered as the client named them
        self._created = created
        self._echo = echo
        self._rid = response_id("switchboard")
        self._sequence = 0
        self._started = False
        self._sequencer = Sequencer()
        self._output: list[dict[str, Any]] = []  # finished items
        self._open: dict[str, Any] | None = None  # the item being written, as it will be when done
        self._pieces: list[str] = []  # its text or arguments so far
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None

    def _sse(self, kind: str, payload: dict[str, Any]) -> bytes:
        self._sequence += 1
        return _sse(kind, self._sequence - 1, payload)

    def _response(self, status: str, *, error: dict[str, Any] | None = None) -> dict[str, Any]:
        usage = self._usage if status != "in_progress" else None
        return response_object(
            self._rid,
            self._model,
            self._created,
            self._echo,
            status=status,
            output=list(self._output),
            usage=usage,
            finish=self._finish,
            error=error,
        )

    def _start(self, upstream_id: str) -> bytes:
        self._started = True
        self._rid = response_id(upstream_id or "switchboard")
        created = self._sse("response.created", {"response": self._response("in_progress")})
        return created + self._sse("response.in_progress", {"response": self._response("in_progress")})

    # items ----------------------------------------------------------------------------------

    def _open_item(self, prefix: str, item: dict[str, Any], added: Callable[[str], dict[str, Any]]) -> bytes:
        """Close the open item, then open one: ``item`` is its kind and fields, ``added`` makes its
        ``output_item.added`` form from the id it gets."""
        out = self._close_item()
        item_id = f"{prefix}_{self._rid.removeprefix('resp_')}_{len(self._output)}"
        self._open, self._pieces = {**item, "id": item_id}, []
        out += self._sse("response.output_item.added", {"output_index": len(self._output), "item": added(item_id)})
        if item["type"] == "message":
            out += self._sse(
                "response.content_part.added", {**self._where(), "content_index": 0, "part": _text_part("")}
            )
        elif item["type"] == "reasoning":
            out += self._sse(
                "response.reasoning_summary_part.added", {**self._where(), "summary_index": 0, "part": _summary("")}
            )
        return out

    def _where(self) -> dict[str, Any]:
        assert self._open is not None
        return {"item_id": self._open["id"], "output_index": len(self._output)}

    def _close_item(self) -> bytes:
        item = self._open
        if item is None:
            return b""
        full = "".join(self._pieces)
        where = self._where()
        if item["type"] == "message":
            done = message_item(item["id"], full, "completed")
            out = self._sse("response.output_text.done", {**where, "content_index": 0, "text": full, "logprobs": []})
            out += self._sse("response.content_part.done", {**where, "content_index": 0, "part": _text_part(full)})
        elif item["type"] == "reasoning":
            done = reasoning_item(item["id"], full)
            out = self._sse("response.reasoning_summary_text.done", {**where, "summary_index": 0, "text": full})
            out += self._sse(
                "response.reasoning_summary_part.done", {**where, "summary_index": 0, "part": _summary(full)}
            )
        else:
            done = call_item(item["id"], item["call_id"], item["name"], full, "completed", self._names)
            if done["type"] == "custom_tool_call":
                out = self._sse("response.custom_tool_call_input.done", {**where, "input": done["input"]})
            else:
                out = self._sse(
                    "response.function_call_arguments.done", {**where, "name": done["name"], "arguments": full}
                )
        out += self._sse("response.output_item.done", {"output_index": len(self._output), "item": done})
        self._output.append(done)
        self._open = None
        return out

    def _piece(self, kind: str, text: str, extra: dict[str, Any]) -> bytes:
        self._pieces.append(text)
        return self._sse(kind, {**self._where(), **extra, "delta": text})

    # events ---------------------------------------------------------------------------------

    def keep_alive(self) -> bytes:
        return KEEP_ALIVE

    def failure(self, err: GatewayError) -> bytes:
        response = self._response("failed", error=_failure_error(err))
        response["usage"] = None
        return self._sse("response.failed", {"response": response})

    def feed(self, event: StreamEvent) -> bytes:
        if isinstance(event, StreamStart):
            return b"" if self._started else self._start(event.id)
        out = b"" if self._started else self._start("")
        for ordered in self._sequencer.feed(event):
            out += self._write(ordered)
        return out

    def _write(self, event: StreamEvent) -> bytes:
        kind = self._open["type"] if self._open is not None else None
        if isinstance(event, TextDelta):
            out = b""
            if kind != "message":
                out = self._open_item("msg", {"type": "message"}, lambda i: message_item(i, "", "in_progress"))
            return out + self._piece("response.output_text.delta", event.text, {"content_index": 0, "logprobs": []})
        if isinstance(event, ReasoningDelta):
            if not event.text:
                return b""  # signatures and redacted thinking are Anthropic's alone
            out = b""
            if kind != "reasoning":
                out = self._open_item("rs", {"type": "reasoning"}, lambda i: reasoning_item(i, ""))
            return out + self._piece("response.reasoning_summary_text.delta", event.text, {"summary_index": 0})
        if isinstance(event, ToolCallStart):
            added = call_item("", event.id, event.name, "", "in_progress", self._names)
            item = {"type": added["type"], "call_id": event.id, "name": event.name}
            return self._open_item(
                "fc" if added["type"] == "function_call" else "ctc", item, lambda i: {**added, "id": i}
            )
        if isinstance(event, ToolCallDelta):
            if kind == "custom_tool_call":
                # The function standing for it writes {"input": ...}: the input is known whole only
                # at the end, so it goes out with the item's done event.
                self._pieces.append(event.arguments)
                return b""
            return (
                self._piece("response.function_call_arguments.delta", event.arguments, {})
                if kind == "function_call"
                else b""
            )
        if isinstance(event, UsageReport):
            self._usage = event.usage
        elif isinstance(event, Finish):
            self._finish = event.reason
            return self._close_item()
        elif isinstance(event, StreamEnd):
            out = self._close_item()
            status = status_of(self._finish)
            return out + self._sse(f"response.{status}", {"response": self._response(status)})
        return b""


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": []}


def _summary(text: str) -> dict[str, Any]:
    return {"type": "summary_text", "text": text}


# --- passthrough ----------------------------------------------------------------------------

_SEQUENCE = re.compile(rb'"sequence_number"\s*:\s*(\d+)')
_MARKERS = (b"response.created", b"response.completed", b"response.incomplete", b"response.failed", b"event: error")


class Relay(RelayState):
    """A Responses stream relayed untouched to a Responses client; usage read on the side."""

    __slots__ = ("_last", "_response", "_splitter")

    def __init__(self) -> None:
        super().__init__()
        self._splitter = EventSplitter()
        self._last = b""  # the last block relayed: where the latest sequence number is
        self._response: dict[str, Any] = {}  # the response object as created

    def failure(self, err: GatewayError) -> bytes:
        numbers = _SEQUENCE.findall(self._last)
        sequence = int(numbers[-1]) + 1 if numbers else 0
        response = {**self._response, "status": "failed", "error": _failure_error(err), "usage": None}
        return failed_event(sequence, response)

    def feed(self, data: bytes) -> bytes:
        """Raises ``MalformedEvent`` for an event that is not JSON (its client would choke on it)."""
        block = self._splitter.take(data)
        if not block:
            return block
        for marker in _MARKERS:
            if marker in block:
                self._read(block)  # which parses, so checks, every event
                break
        else:
            check_json(block)
        self._last = block
        if not self.started and b"data:" in block:
            self.started = True
        return block

    def _read(self, block: bytes) -> None:
        for payload, data in objects_in(block):
            kind = payload.get("type")
            if kind == "response.created":
                self._response = as_object(payload.get("response"))
            elif kind in _TERMINAL:
                self.usage = usage_from(as_object(payload.get("response")).get("usage"))
                self.done = True
            elif kind in ("response.failed", "error") and self.error_payload is None:
                self.error_payload = data
