"""Token usage of one request, whatever protocol reported it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def token_count(value: Any) -> int | None:
    """A token count from an upstream only when it is a sane non-negative integer (B42)."""
    return value if type(value) is int and 0 <= value < 10**12 else None


@dataclass(frozen=True, slots=True)
class Usage:
    """Counted as OpenAI does: ``prompt_tokens`` includes cached and cache-written tokens,
    ``completion_tokens`` includes reasoning tokens."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0  # read from the provider's prompt cache
    reasoning_tokens: int = 0
    cache_write_tokens: int = 0  # written to the prompt cache (Anthropic bills these apart)
    cache_write_hour_tokens: int = 0  # of those, written to Anthropic's one-hour cache (billed higher)
    estimated: bool = False  # counted here because the upstream did not say

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class UsageTotals:
    """Running totals since start: what the gateway served and the tokens it counted."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: int = 0  # answers whose usage the gateway counted itself
    unreported: int = 0  # answers that came without usage and could not be counted

    def add(self, usage: Usage | None) -> None:
        self.requests += 1
        if usage is None:
            self.unreported += 1
            return
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.cached_tokens += usage.cached_tokens
        self.reasoning_tokens += usage.reasoning_tokens
        self.estimated += usage.estimated
