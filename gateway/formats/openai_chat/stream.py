"""OpenAI Chat Completions streams ⇄ canonical stream events.

``StreamDecoder`` turns an upstream's SSE bytes into events; ``StreamEncoder`` turns events into
SSE for an OpenAI client. Each is a small state object fed one piece at a time, with no I/O.
Tool-call fragments are keyed strictly by ``index`` (protocols.md §1.4); the usage-only chunk
(``choices: []``) is read, never skipped, and the finish reason is emitted as soon as it comes.
"""

from __future__ import annotations

from typing import Any

from gateway.core.chat import (
    Finish,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gateway.errors import GatewayError, UpstreamStatus
from gateway.formats.common import jsonbody
from gateway.formats.common.jsonbody import as_object, event_json
from gateway.formats.common.sse import KEEP_ALIVE, EventSplitter, data_in
from gateway.formats.openai.errors import stream_error
from gateway.formats.openai_chat.codec import FINISH_FROM_OPENAI, FINISH_TO_OPENAI, usage_object
from gateway.formats.openai_chat.usage import usage_from

_DONE = b"[DONE]"


class StreamDecoder:
    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._splitter = EventSplitter()
        self._started = False
        self._tools_seen: set[int] = set()

    def feed(self, data: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for payload in data_in(self._splitter.take(data)):
            chunk = event_json(payload)  # MalformedEvent when not JSON: the answer would lose a piece
            if type(chunk) is dict:
                self._chunk(chunk, events)
            elif chunk is None and payload.strip() == _DONE:
                events.append(StreamEnd())
        return events

    def _chunk(self, chunk: dict[str, Any], events: list[StreamEvent]) -> None:
        error = chunk.get("error")
        if error is not None:
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise UpstreamStatus(
                f"{self._provider}: {message or 'error mid-stream'}",
                provider=self._provider,
                status=502,
                error_type="upstream_error",
                code=None,
            )
        if not self._started:
            self._started = True
            events.append(StreamStart(str(chunk.get("id") or ""), str(chunk.get("model") or "")))
        for choice in chunk.get("choices") or ():
            if type(choice) is not dict or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if len(delta) == 1 and type(content) is str:  # the usual chunk: a piece of text, nothing else
                if content:
                    events.append(TextDelta(content))
            elif delta:
                self._delta(delta, events)
            finish = choice.get("finish_reason")
            if finish is not None and type(finish) is str:
                events.append(Finish(FINISH_FROM_OPENAI.get(finish, "stop")))
        if (raw_usage := chunk.get("usage")) is not None and (usage := usage_from(raw_usage)) is not None:
            events.append(UsageReport(usage))

    def _delta(self, delta: dict[str, Any], events: list[StreamEvent]) -> None:
        thinking = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(thinking, str) and thinking:
            events.append(ReasoningDelta(thinking))
        content = delta.get("content")
        if isinstance(content, str) and content:
            events.append(TextDelta(content))
        for call in delta.get("tool_calls") or ():
            self._tool_fragment(call, events)

    def _tool_fragment(self, call: Any, events: list[StreamEvent]) -> None:
        if not isinstance(call, dict):
            return
        index = call.get("index", 0)
        index = index if isinstance(index, int) else 0
        function = as_object(call.get("function"))
        if index not in self._tools_seen:
            self._tools_seen.add(index)
            events.append(ToolCallStart(index, str(call.get("id") or ""), str(function.get("name") or "")))
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            events.append(ToolCallDelta(index, arguments))


class StreamEncoder:
    """Canonical events as Chat Completions chunks; ``[DONE]`` at the end."""

    def __init__(self, model: str, created: int, *, include_usage: bool) -> None:
        self._model = model
        self._created = created
        self._include_usage = include_usage
        self._id = "chatcmpl-"
        self._usage: dict[str, Any] | None = None

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        chunk = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return b"data: " + jsonbody.encode(chunk) + b"\n\n"

    def failure(self, err: GatewayError) -> bytes:
        return stream_error(err)

    def keep_alive(self) -> bytes:
        return KEEP_ALIVE

    def feed(self, event: StreamEvent) -> bytes:
        if isinstance(event, StreamStart):
            self._id = event.id if event.id.startswith("chatcmpl") else f"chatcmpl-{event.id}"
            return self._chunk({"role": "assistant", "content": ""})
        if isinstance(event, TextDelta):
            return self._chunk({"content": event.text})
        if isinstance(event, ReasoningDelta):
            return self._chunk({"reasoning_content": event.text}) if event.text else b""
        if isinstance(event, ToolCallStart):
            call = {
                "index": event.index,
                "id": event.id,
                "type": "function",
                "function": {"name": event.name, "arguments": ""},
            }
            return self._chunk({"tool_calls": [call]})
        if isinstance(event, ToolCallDelta):
            return self._chunk({"tool_calls": [{"index": event.index, "function": {"arguments": event.arguments}}]})
        if isinstance(event, Finish):
            return self._chunk({}, FINISH_TO_OPENAI[event.reason] if event.reason else "stop")
        if isinstance(event, UsageReport):
            self._usage = usage_object(event.usage)
            return b""
        # StreamEnd: the usage chunk (when asked for), then the end marker.
        out = b""
        if self._include_usage and self._usage is not None:
            out = usage_chunk(self._id, self._created, self._model, self._usage)
        return out + b"data: [DONE]\n\n"


def usage_chunk(chunk_id: Any, created: Any, model: Any, usage: dict[str, Any]) -> bytes:
    """The usage-only chunk (``choices: []``) that ends a stream whose client asked for usage."""
    chunk = {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": usage,
    }
    return b"data: " + jsonbody.encode(chunk) + b"\n\n"
