"""Canonical stream events put in an order that protocols with sequential blocks can write.

OpenAI may interleave the argument fragments of parallel tool calls; Messages and Responses
give each block (or output item) a start, its deltas and an end, one after another. So the first
tool call passes live, and whatever comes after it that is not its own arguments is held until
the answer finishes, then given out in the order it came, each held call with all its arguments
in one delta.
"""

from __future__ import annotations

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


class Sequencer:
    __slots__ = ("_flushed", "_held", "_live")

    def __init__(self) -> None:
        self._live: int | None = None  # the tool call passing live
        self._held: list[StreamEvent] = []
        self._flushed = False

    @property
    def passing(self) -> bool:
        """Whether a text or reasoning event fed now would pass straight through."""
        return self._live is None or self._flushed

    def feed(self, event: StreamEvent) -> list[StreamEvent]:
        if isinstance(event, Finish | StreamEnd):
            return [*self._flush(), event]
        if self._flushed or isinstance(event, StreamStart | UsageReport):
            return [event]
        if self._live is None:
            if isinstance(event, ToolCallStart):
                self._live = event.index
            return [event]
        if isinstance(event, ToolCallDelta) and event.index == self._live:
            return [event]
        self._held.append(event)
        return []

    def _flush(self) -> list[StreamEvent]:
        if self._flushed:
            return []
        self._flushed = True
        held, self._held = self._held, []
        arguments: dict[int, list[str]] = {}
        for event in held:
            if isinstance(event, ToolCallDelta):
                arguments.setdefault(event.index, []).append(event.arguments)
        out: list[StreamEvent] = []
        for event in held:
            if isinstance(event, ToolCallStart):
                out.append(event)
                if pieces := arguments.get(event.index):
                    out.append(ToolCallDelta(event.index, "".join(pieces)))
            elif isinstance(event, TextDelta | ReasoningDelta):
                out.append(event)
        return out
