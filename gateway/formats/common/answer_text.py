"""What a model wrote, as plain text: counted with the tokenizer when an upstream reports no
usage."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.core.chat import (
    ChatResponse,
    Reasoning,
    ReasoningDelta,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
)
from gateway.errors import GatewayError
from gateway.formats.interfaces import StreamDecoder


def stream_text(decoder: StreamDecoder, relayed: Iterable[bytes]) -> str:
    """The text, reasoning and tool arguments of a relayed stream, read back with its protocol's
    decoder."""
    pieces: list[str] = []
    for data in relayed:
        try:
            events = decoder.feed(data)
        except GatewayError:
            break  # the stream ended in an error: count what came before it
        for event in events:
            if isinstance(event, TextDelta | ReasoningDelta):
                pieces.append(event.text)
            elif isinstance(event, ToolCallDelta):
                pieces.append(event.arguments)
    return "".join(pieces)


def answer_text(answer: ChatResponse) -> str:
    return "".join(
        p.arguments if isinstance(p, ToolCall) else p.text
        for p in answer.parts
        if isinstance(p, TextPart | Reasoning | ToolCall)
    )
