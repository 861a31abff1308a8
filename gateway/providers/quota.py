"""Quota windows as upstreams report them, read into one shape (protocols.md §7.6–7.7, §8.8, §9).

- Codex (ChatGPT subscription): ``x-codex-primary-*`` / ``x-codex-secondary-*`` headers, the
  in-stream ``codex.rate_limits`` event and the usage endpoint; primary is about the 5-hour
  window and secondary the weekly one.
- Copilot: the user endpoint's ``quota_snapshots`` and the per-response
  ``x-quota-snapshot-*`` header (URL-encoded ``ent``, ``rem`` percent remaining, ``rst``).
- API keys: OpenAI/Groq ``x-ratelimit-*`` and Anthropic ``anthropic-ratelimit-*`` headers.

Everything here is parsing: no clock is read; ``now`` comes in where a reset is relative.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from gateway.providers.ratelimit import parse_duration


@dataclass(frozen=True, slots=True)
class QuotaWindow:
    name: str  # "primary", "secondary", "premium_interactions", "chat", "requests", "tokens", ...
    used_percent: float  # 0-100
    resets_at: float | None = None  # unix seconds
    window_seconds: int | None = None
    entitlement: float | None = None  # what the window allows, where it is counted
    remaining: float | None = None
    unlimited: bool = False

    @property
    def exhausted(self) -> bool:
        return not self.unlimited and self.used_percent >= 100.0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _percent(value: Any) -> float | None:
    number = _number(value)
    return None if number is None else min(100.0, max(0.0, number))


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1")


def _date(value: Any) -> float | None:
    """Unix seconds of an ISO date or time ("2026-12-01", "2026-12-01T00:00:00Z")."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


# --- Codex ----------------------------------------------------------------------------------


def codex_headers(headers: Mapping[str, str], now: float) -> tuple[QuotaWindow, ...]:
    windows = []
    for name in ("primary", "secondary"):
        used = _percent(headers.get(f"x-codex-{name}-used-percent"))
        if used is None:
            continue
        minutes = _number(headers.get(f"x-codex-{name}-window-minutes"))
        resets = _number(headers.get(f"x-codex-{name}-reset-at"))
        after = _number(headers.get(f"x-codex-{name}-reset-after-seconds"))  # an older variant
        if resets is None and after is not None:
            resets = now + after
        windows.append(QuotaWindow(name, used, resets, int(minutes * 60) if minutes else None))
    return tuple(windows)


def codex_event(payload: Mapping[str, Any]) -> tuple[QuotaWindow, ...]:
    """The in-stream ``codex.rate_limits`` event."""
    limits = payload.get("rate_limits")
    if not isinstance(limits, dict):
        return ()
    windows = []
    for name in ("primary", "secondary"):
        window = limits.get(name)
        used = _percent(window.get("used_percent")) if isinstance(window, dict) else None
        if used is None or not isinstance(window, dict):
            continue
        minutes = _number(window.get("window_minutes"))
        windows.append(QuotaWindow(name, used, _number(window.get("reset_at")), int(minutes * 60) if minutes else None))
    return tuple(windows)


def codex_usage(body: Mapping[str, Any]) -> tuple[QuotaWindow, ...]:
    """The usage endpoint (``/wham/usage``): both windows, and credits when there are any."""
    limit = body.get("rate_limit")
    windows = []
    if isinstance(limit, dict):
        for name in ("primary", "secondary"):
            window = limit.get(f"{name}_window")
            used = _percent(window.get("used_percent")) if isinstance(window, dict) else None
            if used is None or not isinstance(window, dict):
                continue
            seconds = _number(window.get("limit_window_seconds"))
            windows.append(QuotaWindow(name, used, _number(window.get("reset_at")), int(seconds) if seconds else None))
    credits = body.get("credits")
    if isinstance(credits, dict) and _flag(credits.get("has_credits")):
        balance = _number(credits.get("balance"))
        unlimited = _flag(credits.get("unlimited"))
        windows.append(
            QuotaWindow(
                "credits", 0.0 if unlimited or (balance or 0) > 0 else 100.0, remaining=balance, unlimited=unlimited
            )
        )
    return tuple(windows)


# --- Copilot --------------------------------------------------------------------------------


def copilot_user(body: Mapping[str, Any]) -> tuple[QuotaWindow, ...]:
    """The user endpoint's ``quota_snapshots``: used = 100 − percent remaining."""
    snapshots = body.get("quota_snapshots")
    if not isinstance(snapshots, dict):
        return ()
    resets = _date(body.get("quota_reset_date_utc")) or _date(body.get("quota_reset_date"))
    windows = []
    for name in ("premium_interactions", "chat", "completions"):
        snap = snapshots.get(name)
        if not isinstance(snap, dict):
            continue
        left = _percent(snap.get("percent_remaining"))
        unlimited = _flag(snap.get("unlimited"))
        if left is None and not unlimited:
            continue
        windows.append(
            QuotaWindow(
                name,
                0.0 if unlimited else 100.0 - (left or 0.0),
                resets,
                entitlement=_number(snap.get("entitlement")),
                remaining=_number(snap.get("remaining")),
                unlimited=unlimited,
            )
        )
    return tuple(windows)


_COPILOT_HEADERS = (
    ("x-quota-snapshot-premium_interactions", "premium_interactions"),
    ("x-quota-snapshot-premium_models", "premium_interactions"),
    ("x-quota-snapshot-chat", "chat"),
)


def copilot_headers(headers: Mapping[str, str]) -> tuple[QuotaWindow, ...]:
    for header, name in _COPILOT_HEADERS:
        raw = headers.get(header)
        if not raw:
            continue
        fields = dict(parse_qsl(raw, keep_blank_values=True))
        entitlement = _number(fields.get("ent"))
        left = _percent(fields.get("rem"))
        unlimited = entitlement == -1
        if left is None and not unlimited:
            continue
        return (
            QuotaWindow(
                name,
                0.0 if unlimited else 100.0 - (left or 0.0),
                _date(fields.get("rst")),
                entitlement=None if unlimited else entitlement,
                unlimited=unlimited,
            ),
        )
    return ()


# --- API keys -------------------------------------------------------------------------------

_FAMILIES = (
    ("requests", "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"),
    ("tokens", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
    (
        "requests",
        "anthropic-ratelimit-requests-limit",
        "anthropic-ratelimit-requests-remaining",
        "anthropic-ratelimit-requests-reset",
    ),
    (
        "tokens",
        "anthropic-ratelimit-tokens-limit",
        "anthropic-ratelimit-tokens-remaining",
        "anthropic-ratelimit-tokens-reset",
    ),
)


def ratelimit_headers(headers: Mapping[str, str], now: float) -> tuple[QuotaWindow, ...]:
    """Requests and tokens windows from an API-key provider's rate-limit headers."""
    windows: dict[str, QuotaWindow] = {}
    for name, limit_h, remaining_h, reset_h in _FAMILIES:
        raw_limit = headers.get(limit_h)
        if raw_limit is None or name in windows:
            continue  # the usual case for a server that sends none: one lookup per family
        limit, remaining = _number(raw_limit), _number(headers.get(remaining_h))
        if limit is None or remaining is None or limit <= 0:
            continue
        reset = headers.get(reset_h, "")
        after = parse_duration(reset) if reset else None
        resets = now + after if after is not None else _date(reset)
        used = min(100.0, max(0.0, 100.0 * (1 - remaining / limit)))
        windows[name] = QuotaWindow(name, used, resets, entitlement=limit, remaining=remaining)
    return tuple(windows.values())
