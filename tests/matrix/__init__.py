"""Every client protocol against every upstream protocol: real SDKs on one side (``clients``),
faithful fakes on the other (``upstreams``), both reduced to one neutral vocabulary so a single
set of scenarios (``tests/e2e/test_matrix.py``) checks every pair."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TIME_TOOL = {
    "name": "get_time",
    "description": "Local time in a timezone",
    "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
}
# A finished tool round the client sends back: two calls and their results.
PAST_CALLS = (
    ("call_past_1", "get_weather", {"city": "Paris"}),
    ("call_past_2", "get_time", {"timezone": "Europe/Paris"}),
)
PAST_RESULTS = (("call_past_1", "18C and sunny"), ("call_past_2", "14:05"))
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@dataclass(frozen=True)
class Ask:
    """One request, in no protocol's terms."""

    model: str
    turns: tuple[tuple[str, str], ...] = (("user", "Say hello"),)
    system: str | None = None
    stream: bool = False
    tools: bool = False  # offer get_weather and get_time
    reasoning: bool = False
    image: bool = False  # attach PNG to the first user turn
    tool_round: bool = False  # end with PAST_CALLS answered by PAST_RESULTS
    max_tokens: int | None = None


@dataclass
class Answer:
    """What the client understood, counted the OpenAI way (prompt includes cached tokens)."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[tuple[str, str, Any]] = field(default_factory=list)  # (id, name, arguments)
    stop: str = ""  # end | tool | length
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass
class Received:
    """What the upstream was sent, read back from its own protocol."""

    system: str | None
    turns: list[tuple[str, str]]
    tool_calls: list[tuple[str, str, Any]]
    tool_results: list[tuple[str, str]]
    images: list[tuple[str, str]]  # (media type, base64 data)
    tool_names: list[str]
    reasoning_asked: bool
    max_tokens: int | None


class Refused(Exception):
    """The client's own error, as its SDK reported it: before the answer (with an HTTP status) or
    inside a stream that had already begun (``in_stream``)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        retry_after: str | None = None,
        kind: str = "",
        in_stream: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.kind = kind
        self.in_stream = in_stream
