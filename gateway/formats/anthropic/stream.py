"""Anthropic Messages streams (protocols.md §3.4): decoding, encoding, and the passthrough relay.

- ``StreamDecoder``: an Anthropic upstream's SSE into canonical events.
- ``StreamEncoder``: canonical events into the exact Messages event order for an Anthropic
  client: ``message_start``, then per block ``content_block_start`` / deltas /
  ``content_block_stop``, then ``message_delta`` (stop reason and usage) and ``message_stop``.
  Blocks are sequential, so events go through a ``Sequencer`` first. ``message_delta`` waits for
  the end of the stream, so usage that arrives after the finish reason (OpenAI's usage-only
  chunk) is not lost. Other upstreams say nothing of usage until the end, so ``message_start``
  states the prompt's size as counted here (clients' context meters read it there);
  ``message_delta`` has the upstream's own count.
- ``Relay``: an Anthropic stream to an Anthropic client, untouched, with usage read on the side.
"""

from __future__ import annotations

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
from gateway.formats.anthropic.codec import FINISH_FROM_ANTHROPIC, FINISH_TO_ANTHROPIC, message_id
from gateway.formats.anthropic.errors import stream_error
from gateway.formats.anthropic.usage import usage_from, usage_object
from gateway.formats.common import jsonbody
from gateway.formats.common.jsonbody import as_object
from gateway.formats.common.relay_state import RelayState
from gateway.formats.common.sequencer import Sequencer
from gateway.formats.common.sse import EventSplitter, check_json, objects_in


def upstream_error(provider: str, payload: dict[str, Any]) -> UpstreamStatus:
    error = as_object(payload.get("error"))
    error_type = str(error.get("type") or "api_error")
    return UpstreamStatus(
        f"{provider}: {error.get('message') or 'error mid-stream'}",
        provider=provider,
        status=529 if error_type == "overloaded_error" else 502,
        error_type=error_type,
        code=None,
    )


class StreamDecoder:
    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._splitter = EventSplitter()
        self._tool_of_block: dict[int, int] = {}
        self._start_usage: dict[str, Any] = {}

    def feed(self, data: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for payload, _ in objects_in(self._splitter.take(data)):
            self._event(payload, events)
        return events

    def _event(self, payload: dict[str, Any], events: list[StreamEvent]) -> None:
        kind = payload.get("type")
        if kind == "message_start":
            message = as_object(payload.get("message"))
            usage = message.get("usage")
            self._start_usage = usage if isinstance(usage, dict) else {}
            events.append(StreamStart(str(message.get("id") or ""), str(message.get("model") or "")))
        elif kind == "content_block_start":
            self._block_start(payload, events)
        elif kind == "content_block_delta":
            self._block_delta(payload, events)
        elif kind == "message_delta":
            delta = as_object(payload.get("delta"))
            stop = delta.get("stop_reason")
            if isinstance(stop, str):
                sequence = delta.get("stop_sequence")
                events.append(
                    Finish(FINISH_FROM_ANTHROPIC.get(stop, "stop"), sequence if isinstance(sequence, str) else None)
                )
            usage = payload.get("usage")
            merged = usage_from({**self._start_usage, **(usage if isinstance(usage, dict) else {})})
            if merged is not None:
                events.append(UsageReport(merged))
        elif kind == "message_stop":
            events.append(StreamEnd())
        elif kind == "error":
            raise upstream_error(self._provider, payload)

    def _block_start(self, payload: dict[str, Any], events: list[StreamEvent]) -> None:
        block = as_object(payload.get("content_block"))
        kind, index = block.get("type"), payload.get("index")
        if kind == "tool_use" and isinstance(index, int):
            tool = len(self._tool_of_block)
            self._tool_of_block[index] = tool
            events.append(ToolCallStart(tool, str(block.get("id") or ""), str(block.get("name") or "")))
        elif kind == "redacted_thinking":
            events.append(ReasoningDelta(redacted=str(block.get("data") or "")))
        elif kind == "text" and block.get("text"):
            events.append(TextDelta(str(block["text"])))

    def _block_delta(self, payload: dict[str, Any], events: list[StreamEvent]) -> None:
        delta = as_object(payload.get("delta"))
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            events.append(TextDelta(str(delta["text"])))
        elif kind == "input_json_delta" and delta.get("partial_json"):
            tool = self._tool_of_block.get(payload.get("index"))  # type: ignore[arg-type]
            if tool is not None:
                events.append(ToolCallDelta(tool, str(delta["partial_json"])))
        elif kind == "thinking_delta" and delta.get("thinking"):
            events.append(ReasoningDelta(str(delta["thinking"])))
        elif kind == "signature_delta" and delta.get("signature"):
            events.append(ReasoningDelta(signature=str(delta["signature"])))


def _sse(kind: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + jsonbody.encode({"type": kind, **payload}) + b"\n\n"


PING = _sse("ping", {})  # Anthropic's own keep-alive; its SDKs skip it wherever it comes


class StreamEncoder:
    def __init__(self, model: str, prompt_tokens: int = 0) -> None:
        """``prompt_tokens``: the prompt's size as counted here, until the upstream's own count."""
        self._model = model
        self._prompt_tokens = prompt_tokens
        self._started = False
        self._sequencer = Sequencer()
        self._text_prefix = b""  # of a text delta event in the open text block
        self._next_index = 0
        self._open: str | None = None  # the kind of the block now open: text, thinking or tool
        self._finish: FinishReason | None = None
        self._stop_sequence: str | None = None
        self._usage: Usage | None = None

    # blocks ---------------------------------------------------------------------------------

    def _open_block(self, kind: str, block: dict[str, Any]) -> bytes:
        out = self._close_block()
        self._open = kind
        return out + _sse("content_block_start", {"index": self._next_index, "content_block": block})

    def _close_block(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        self._next_index += 1
        return _sse("content_block_stop", {"index": self._next_index - 1})

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return _sse("content_block_delta", {"index": self._next_index, "delta": delta})

    def _start(self, upstream_id: str) -> bytes:
        self._started = True
        message: dict[str, Any] = {
            "id": message_id(upstream_id or "switchboard"),
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self._usage_object(),
        }
        return _sse("message_start", {"message": message})

    def _usage_object(self) -> dict[str, int]:
        """The upstream's usage once it came; before (or without) it, the prompt as counted here."""
        if self._usage is None:
            return {"input_tokens": self._prompt_tokens, "output_tokens": 0}
        return usage_object(self._usage)

    # events ---------------------------------------------------------------------------------

    def failure(self, err: GatewayError) -> bytes:
        return stream_error(err)

    def keep_alive(self) -> bytes:
        return PING

    def feed(self, event: StreamEvent) -> bytes:
        if type(event) is TextDelta and self._open == "text" and self._sequencer.passing:
            # The usual event, written from a prefix made when its block opened.
            return self._text_prefix + jsonbody.encode(event.text) + b"}}\n\n"
        if isinstance(event, StreamStart):
            return b"" if self._started else self._start(event.id)
        out = b"" if self._started else self._start("")
        for ordered in self._sequencer.feed(event):
            out += self._write(ordered)
        return out

    def _write(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            out = b""
            if self._open != "text":
                out = self._open_block("text", {"type": "text", "text": ""})
                self._text_prefix = (
                    b"event: content_block_delta\ndata: "
                    b'{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":' % self._next_index
                )
            return out + self._delta({"type": "text_delta", "text": event.text})
        if isinstance(event, ReasoningDelta):
            if event.redacted:
                block = self._open_block("redacted", {"type": "redacted_thinking", "data": event.redacted})
                return block + self._close_block()
            if event.signature:
                return (
                    self._delta({"type": "signature_delta", "signature": event.signature})
                    if self._open == "thinking"
                    else b""
                )
            out = (
                b"" if self._open == "thinking" else self._open_block("thinking", {"type": "thinking", "thinking": ""})
            )
            return out + self._delta({"type": "thinking_delta", "thinking": event.text})
        if isinstance(event, ToolCallStart):
            return self._open_block("tool", {"type": "tool_use", "id": event.id, "name": event.name, "input": {}})
        if isinstance(event, ToolCallDelta):
            return (
                self._delta({"type": "input_json_delta", "partial_json": event.arguments})
                if self._open == "tool"
                else b""
            )
        if isinstance(event, UsageReport):
            self._usage = event.usage
        elif isinstance(event, Finish):
            self._finish, self._stop_sequence = event.reason, event.stop_sequence
            return self._close_block()
        elif isinstance(event, StreamEnd):
            stop_reason = FINISH_TO_ANTHROPIC[self._finish] if self._finish else "end_turn"
            delta = {"stop_reason": stop_reason, "stop_sequence": self._stop_sequence}
            end = _sse("message_delta", {"delta": delta, "usage": self._usage_object()}) + _sse("message_stop", {})
            return self._close_block() + end
        return b""


class Relay(RelayState):
    """An Anthropic stream relayed untouched to an Anthropic client; usage read on the side."""

    __slots__ = ("_splitter", "_start_usage")

    def __init__(self) -> None:
        super().__init__()
        self._splitter = EventSplitter()
        self._start_usage: dict[str, Any] = {}

    def failure(self, err: GatewayError) -> bytes:
        return stream_error(err)

    def feed(self, data: bytes) -> bytes:
        """Raises ``MalformedEvent`` for an event that is not JSON (its client would choke on it)."""
        block = self._splitter.take(data)
        if not block:
            return b""
        for marker in (b"message_start", b"message_delta", b"message_stop", b"event: error"):
            if marker in block:
                self._read(block)  # which parses, so checks, every event
                break
        else:
            check_json(block)
        if not self.started and b"data:" in block:
            self.started = True
        return block

    def _read(self, block: bytes) -> None:
        for payload, data in objects_in(block):
            kind = payload.get("type")
            if kind == "message_start" and isinstance(payload.get("message"), dict):
                usage = payload["message"].get("usage")
                self._start_usage = usage if isinstance(usage, dict) else {}
                self.usage = usage_from(self._start_usage)
            elif kind == "message_delta" and isinstance(payload.get("usage"), dict):
                self.usage = usage_from({**self._start_usage, **payload["usage"]}) or self.usage
            elif kind == "message_stop":
                self.done = True
            elif kind == "error" and self.error_payload is None:
                self.error_payload = data
