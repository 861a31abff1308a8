"""Ollama's NDJSON streams (protocols.md §4.4): decoding, encoding, and the passthrough relay.

- ``StreamDecoder``: an Ollama upstream's lines into canonical events. Tool calls arrive whole.
- ``StreamEncoder``: canonical events as /api/chat (or /api/generate) lines. Ollama clients
  expect each tool call whole, so calls are gathered and sent in one line when the answer
  finishes; the last line has ``done: true`` with the counts and durations.
- ``Relay``: an Ollama stream to an Ollama client, untouched, with usage read from its last line.
A failure after the stream began is a last line ``{"error": "..."}``.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.core.chat import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gateway.core.timing import Timing
from gateway.core.usage import Usage
from gateway.errors import GatewayError, UpstreamStatus
from gateway.formats.common import jsonbody
from gateway.formats.common.jsonbody import as_object, event_json
from gateway.formats.common.ndjson import LineSplitter, check_json
from gateway.formats.common.relay_state import RelayState
from gateway.formats.ollama.codec import (
    DONE_REASON,
    answer_call_prefix,
    finish_of,
    iso_time,
    metrics,
    tool_calls,
    usage_from,
    wire_calls,
)


def _line(obj: dict[str, Any]) -> bytes:
    return jsonbody.encode(obj) + b"\n"


def stream_error(err: GatewayError) -> bytes:
    return _line({"error": err.message})


def upstream_error(provider: str, message: Any) -> UpstreamStatus:
    return UpstreamStatus(
        f"{provider}: {message or 'error mid-stream'}",
        provider=provider,
        status=502,
        error_type="upstream_error",
        code=None,
    )


class StreamDecoder:
    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._lines = LineSplitter()
        self._started = False
        self._calls = 0

    def feed(self, data: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for line in self._lines.feed(data):
            if isinstance(chunk := event_json(line), dict):
                self._chunk(chunk, events)
        return events

    def _chunk(self, chunk: dict[str, Any], events: list[StreamEvent]) -> None:
        if "error" in chunk:
            raise upstream_error(self._provider, chunk["error"])
        if not self._started:
            self._started = True
            events.append(StreamStart("", str(chunk.get("model") or "")))
        message = as_object(chunk.get("message"))
        if isinstance(thinking := message.get("thinking", chunk.get("thinking")), str) and thinking:
            events.append(ReasoningDelta(thinking))
        if isinstance(content := message.get("content", chunk.get("response")), str) and content:
            events.append(TextDelta(content))
        for call in tool_calls(message, f"{answer_call_prefix(chunk)}_{self._calls}"):
            events.append(ToolCallStart(self._calls, call.id, call.name))
            events.append(ToolCallDelta(self._calls, call.arguments))
            self._calls += 1
        if chunk.get("done") is True:
            events.append(Finish(finish_of(chunk.get("done_reason"), self._calls > 0)))
            if (usage := usage_from(chunk)) is not None:
                events.append(UsageReport(usage))
            events.append(StreamEnd())


class StreamEncoder:
    def __init__(self, model: str, timing: Timing, *, generate: bool) -> None:
        self._model = model
        self._timing = timing
        self._generate = generate
        self._created_at = iso_time(timing.created)
        self._first_ns: int | None = None  # when the first output went out
        self._calls: dict[int, list[str]] = {}  # index -> [id, name, arguments...]
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None

    def _chunk(self, message: dict[str, Any], **extra: Any) -> bytes:
        if self._first_ns is None:
            self._first_ns = self._timing.elapsed_ns()
        body: dict[str, Any] = {"model": self._model, "created_at": self._created_at}
        if self._generate:
            body["response"] = message.get("content", "")
            if "thinking" in message:
                body["thinking"] = message["thinking"]
        else:
            body["message"] = {"role": "assistant", **message}
        return _line({**body, "done": False, **extra})

    def failure(self, err: GatewayError) -> bytes:
        return stream_error(err)

    def keep_alive(self) -> bytes:
        """A line that adds nothing, such as Ollama itself sends (a thinking model's first line
        holds no content): its clients parse every line as JSON, so a comment or a blank line
        would break them."""
        body: dict[str, Any] = {"model": self._model, "created_at": self._created_at}
        if self._generate:
            body["response"] = ""
        else:
            body["message"] = {"role": "assistant", "content": ""}
        return _line({**body, "done": False})

    def feed(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            return self._chunk({"content": event.text})
        if isinstance(event, ReasoningDelta):
            return self._chunk({"content": "", "thinking": event.text}) if event.text else b""
        if isinstance(event, ToolCallStart):
            self._calls[event.index] = [event.id, event.name]
        elif isinstance(event, ToolCallDelta) and event.index in self._calls:
            self._calls[event.index].append(event.arguments)
        elif isinstance(event, UsageReport):
            self._usage = event.usage
        elif isinstance(event, Finish):
            self._finish = event.reason
            return self._tool_calls()
        elif isinstance(event, StreamEnd):
            return self._tool_calls() + self._done()
        return b""

    def _tool_calls(self) -> bytes:
        if not self._calls or self._generate:
            return b""
        calls = [ToolCall(c[0], c[1], "".join(c[2:])) for _, c in sorted(self._calls.items())]
        self._calls = {}
        return self._chunk({"content": "", "tool_calls": wire_calls(calls)})

    def _done(self) -> bytes:
        body: dict[str, Any] = {"model": self._model, "created_at": self._created_at}
        if self._generate:
            body["response"] = ""
        else:
            body["message"] = {"role": "assistant", "content": ""}
        reason = DONE_REASON.get(self._finish, "stop") if self._finish else "stop"
        return _line(
            {
                **body,
                "done": True,
                "done_reason": reason,
                **metrics(self._usage, self._timing.elapsed_ns(), self._first_ns),
            }
        )


_DONE = re.compile(rb'"done"\s*:\s*true')


class Relay(RelayState):
    """An Ollama stream relayed untouched to an Ollama client; usage read from its last line."""

    __slots__ = ("_lines",)

    def __init__(self) -> None:
        super().__init__()
        self._lines = LineSplitter()

    def failure(self, err: GatewayError) -> bytes:
        return stream_error(err)

    def feed(self, data: bytes) -> bytes:
        block = self._lines.take(data)
        if not block:
            return block
        check_json(block)  # a line its client could not parse must not reach it
        self.started = True
        # Only the last line can end the stream, with counts or with an error.
        last = block[block.rfind(b"\n", 0, len(block) - 1) + 1 :]
        if _DONE.search(last) or last.lstrip().startswith(b'{"error"'):
            try:
                chunk = as_object(jsonbody.loads(last))
            except ValueError:
                return block
            if "error" in chunk:
                self.error_payload = last.strip()
            elif chunk.get("done") is True:
                self.usage = usage_from(chunk)
                self.done = True
        return block
