"""Usage as OpenAI reports it, read defensively (B42)."""

from __future__ import annotations

from typing import Any

from gateway.core.usage import Usage
from gateway.core.usage import token_count as _count
from gateway.formats.common import jsonbody


def usage_from(raw: Any) -> Usage | None:
    """Usage from an OpenAI ``usage`` object; None when missing or not believable."""
    if type(raw) is not dict:
        return None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    # token_count's test, inline: this runs on every answer.
    if not (type(prompt) is int and type(completion) is int and 0 <= prompt < 10**12 and 0 <= completion < 10**12):
        return None
    cached = reasoning = 0
    if type(details := raw.get("prompt_tokens_details")) is dict:
        cached = _count(details.get("cached_tokens")) or 0
    elif "prompt_cache_hit_tokens" in raw:  # DeepSeek's own name for them
        cached = min(_count(raw["prompt_cache_hit_tokens"]) or 0, prompt)
    if type(details := raw.get("completion_tokens_details")) is dict:
        reasoning = _count(details.get("reasoning_tokens")) or 0
        # OpenAI counts reasoning within completion_tokens; Gemini's OpenAI-compatible answers
        # leave it out, and their total says so: priced as output, it must be put back.
        if reasoning and raw.get("total_tokens") == prompt + completion + reasoning:
            completion += reasoning
    return Usage(prompt, completion, cached, reasoning)


def completion_usage(body: bytes) -> Usage | None:
    """Check that a complete answer is a JSON object and read its usage.

    Raises ValueError when the body is not a JSON object (truncated, an HTML page, ...).
    """
    parsed = jsonbody.loads(body)
    if not isinstance(parsed, dict):
        raise ValueError("not a JSON object")
    return usage_from(parsed.get("usage"))
