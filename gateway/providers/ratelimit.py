"""How long an upstream asks us to wait, from whichever header it uses (protocols.md §9).

``Retry-After`` (seconds or an HTTP date), the SDKs' ``retry-after-ms``, OpenAI/Groq reset
durations (``6m0s``, ``1h2m3.5s``, ``12ms``) and Anthropic's RFC 3339 reset times all become one
whole number of seconds, at least 1 and at most ``MAX_WAIT`` so a garbage or absurd value can
never park a client for days (B40).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

MAX_WAIT = 3600

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_RESET_HEADERS = (
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-tokens-reset",
)


def parse_duration(text: str) -> float | None:
    """Seconds in a Go-style duration such as ``1h2m3.5s`` or ``12ms``; None if it is not one."""
    text = text.strip()
    if not _DURATION_WHOLE.match(text):
        return None
    return sum(float(n) * _UNIT[unit] for n, unit in _DURATION.findall(text))


def _seconds_until(text: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        return None
    return when.timestamp() - now


def _parse_wait(value: str, now: float) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    duration = parse_duration(value)
    return duration if duration is not None else _seconds_until(value, now)


def clamp_wait(seconds: float) -> int:
    """Whole seconds a client should wait: at least 1, at most ``MAX_WAIT``."""
    return min(MAX_WAIT, max(1, math.ceil(seconds)))


def wait_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until the upstream says to try again, as it says it (uncapped: a weekly quota
    really is days away), or None when it does not say."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            value = float(ms)
            if math.isfinite(value) and value >= 0:
                return value / 1000
        except ValueError:
            pass
    for name in ("retry-after", *_RESET_HEADERS):
        raw = headers.get(name)
        if raw:
            seconds = _parse_wait(raw, now)
            if seconds is not None:
                return max(0.0, seconds)
    return None


def should_retry(headers: Mapping[str, str]) -> bool | None:
    """The upstream's own ``x-should-retry`` verdict, when it gives one."""
    value = headers.get("x-should-retry", "").strip().lower()
    return True if value == "true" else False if value == "false" else None
