"""Usage as Anthropic reports it: ``input_tokens`` leaves out the prompt-cache tokens."""

from __future__ import annotations

from typing import Any

from gateway.core.usage import Usage, token_count


def _count(value: Any) -> int:
    return token_count(value) or 0


def usage_from(raw: Any) -> Usage | None:
    if not isinstance(raw, dict) or type(raw.get("output_tokens")) is not int:
        return None
    cache_read = _count(raw.get("cache_read_input_tokens"))
    cache_write = _count(raw.get("cache_creation_input_tokens"))
    # The writes by how long they are kept: the one-hour cache's cost more (Claude Code uses it).
    by_ttl = raw.get("cache_creation")
    hour = _count(by_ttl.get("ephemeral_1h_input_tokens")) if isinstance(by_ttl, dict) else 0
    return Usage(
        prompt_tokens=_count(raw.get("input_tokens")) + cache_read + cache_write,
        completion_tokens=_count(raw.get("output_tokens")),
        cached_tokens=cache_read,
        cache_write_tokens=cache_write,
        cache_write_hour_tokens=min(hour, cache_write),
    )


def usage_object(usage: Usage | None) -> dict[str, int]:
    if usage is None:
        return {"input_tokens": 0, "output_tokens": 0}
    return {
        "input_tokens": max(0, usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens),
        "output_tokens": usage.completion_tokens,
        "cache_read_input_tokens": usage.cached_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
    }
