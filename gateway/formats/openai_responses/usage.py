"""Usage as the Responses API reports it: ``input_tokens`` includes cached tokens and
``output_tokens`` includes reasoning tokens, as in Chat Completions, under other names."""

from __future__ import annotations

from typing import Any

from gateway.core.usage import Usage, token_count


def usage_from(raw: Any) -> Usage | None:
    if type(raw) is not dict:
        return None
    prompt, completion = token_count(raw.get("input_tokens")), token_count(raw.get("output_tokens"))
    if prompt is None or completion is None:
        return None
    cached = reasoning = 0
    if type(details := raw.get("input_tokens_details")) is dict:
        cached = token_count(details.get("cached_tokens")) or 0
    if type(details := raw.get("output_tokens_details")) is dict:
        reasoning = token_count(details.get("reasoning_tokens")) or 0
    return Usage(prompt, completion, cached, reasoning)


def usage_object(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }
