"""The canonical chat: one request, response and stream-event vocabulary for every protocol.

Each wire protocol has a codec in ``gateway/formats`` that converts to and from these types, so
N client protocols and M upstream protocols need N + M codecs, not N × M translators.

Conventions:
- The system prompt is separate from the turns (as in Anthropic Messages); turns are ``user`` or
  ``assistant``, or ``system`` for instructions given mid-conversation, kept where they were
  given (Claude Code sends them; Chat and Responses allow them anywhere). A tool's result is a
  part of the following user turn (again as in Anthropic), and codecs for protocols with a
  ``tool`` role split and join it.
- A tool call's arguments are JSON text (as in OpenAI); codecs for protocols that use an object
  parse and dump it.
- Usage counts every prompt token in ``prompt_tokens``, cached ones included (as in OpenAI).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gateway.core.usage import Usage

# --- content -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str
    cache: bool = False  # the client asked the upstream to cache the prompt up to here


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image as base64 data with its media type, or by URL."""

    media_type: str = ""
    data: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text


@dataclass(frozen=True, slots=True)
class ToolResult:
    call_id: str
    content: tuple[TextPart | ImagePart, ...]
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Reasoning:
    """A model's thinking. ``signature`` lets Anthropic verify it when it is sent back;
    ``redacted`` holds thinking the upstream encrypted (Anthropic's redacted_thinking)."""

    text: str = ""
    signature: str = ""
    redacted: str = ""


Part = TextPart | ImagePart | ToolCall | ToolResult | Reasoning
Role = Literal["user", "assistant", "system"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    parts: tuple[Part, ...]


# --- request -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of the arguments
    cache: bool = False


@dataclass(frozen=True, slots=True)
class ToolChoice:
    mode: Literal["auto", "none", "required", "tool"]
    name: str = ""  # with mode "tool"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[Message, ...]
    system: tuple[TextPart, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] = ()
    stream: bool = False
    reasoning_effort: str | None = None  # "minimal", "low", "medium", "high"
    reasoning_budget: int | None = None  # thinking tokens, where the protocol counts them
    response_format: dict[str, Any] | None = None  # OpenAI's {"type": "json_schema", ...}
    user: str | None = None
    # What the client sent that no upstream protocol but its own can carry (a hosted tool, …),
    # left out of a translated request and named to the client, never silently.
    dropped: tuple[str, ...] = ()


# --- response ------------------------------------------------------------------------------

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "refusal", "pause"]


@dataclass(frozen=True, slots=True)
class ChatResponse:
    id: str
    model: str
    parts: tuple[TextPart | Reasoning | ToolCall, ...]
    finish: FinishReason | None
    usage: Usage | None
    stop_sequence: str | None = None


# --- stream events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamStart:
    id: str
    model: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str = ""
    signature: str = ""  # arrives once, at the end of a thinking block
    redacted: str = ""  # a whole redacted block


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    index: int  # position of the call in this answer, from 0
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    index: int
    arguments: str  # the next piece of the JSON text


@dataclass(frozen=True, slots=True)
class UsageReport:
    usage: Usage


@dataclass(frozen=True, slots=True)
class Finish:
    reason: FinishReason | None
    stop_sequence: str | None = None


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The upstream ended the stream properly; nothing follows."""


StreamEvent = (
    StreamStart | TextDelta | ReasoningDelta | ToolCallStart | ToolCallDelta | UsageReport | Finish | StreamEnd
)
