"""The quota meters: each window of each account and API key the gateway has seen, and each
client key's limits, as a title, a share used and a line of detail."""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.viewmodels.durations import span
from gateway import ClientKeyStatus, QuotaReading, StatusDocument

WINDOW_NAMES = {
    "primary": "5-hour window",
    "secondary": "weekly window",
    "premium_interactions": "premium requests",
    "chat": "chat",
    "completions": "completions",
}
LIMIT_NAMES = {
    "requests_per_minute": "requests per minute",
    "requests_per_day": "requests per day",
    "tokens_per_minute": "tokens per minute",
    "tokens_per_day": "tokens per day",
    "dollars_per_day": "budget per day",
    "dollars_per_month": "budget per month (30 days)",
}


@dataclass(frozen=True, slots=True)
class MeterData:
    key: str
    title: str
    used_percent: float | None
    text: str
    detail: str


def _clock_time(epoch: float) -> str:
    return time.strftime("%a %H:%M", time.localtime(epoch))


def _amount(n: float) -> str:
    """A count as reported (the gateway has some amounts as floats): whole ones without a fraction."""
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def _used_of(limit: str, used: float, of: float) -> str:
    """ "15 of 60", or for a budget in dollars "$1.53 of $5.00"."""
    if limit.startswith("dollars_"):
        return f"${used:,.2f} of ${of:,.2f}"
    return f"{_amount(used)} of {_amount(of)}"


def window_name(w: QuotaReading) -> str:
    """What people call the window: "5-hour window", "premium requests"."""
    return WINDOW_NAMES.get(w["window"], w["window"].replace("_", " "))


SERVICE_PREFIXES = {"codex": "ChatGPT", "copilot": "GitHub Copilot"}  # an account's label is kind:who


def account_name(label: str) -> str:
    """An account as people know it: "ChatGPT · ada@example.com", not its id "codex:ada@example.com"."""
    kind, _, who = label.partition(":")
    return f"{SERVICE_PREFIXES[kind]} · {who}" if who and kind in SERVICE_PREFIXES else label


def window_meter(w: QuotaReading) -> MeterData:
    key, title = f"{w['label']}/{w['window']}", f"{account_name(w['label'])} — {window_name(w)}"
    if w["unlimited"]:
        return MeterData(key, title, None, "unlimited", "")
    left = ""
    if w["entitlement"] and w["remaining"] is not None:
        left = f"{_amount(w['remaining'])} of {_amount(w['entitlement'])} left"
    if w["reset"]:  # past its reset: its last reading is history, not what is used now
        detail = f"It reset {_clock_time(w['resets_at'] or w['taken_at'])}; new figures come with the next request."
        return MeterData(key, title, 0.0, f"Reset ({left})" if left else "Reset", detail)
    used = w["used_percent"]
    text = f"{used:.0f} % used" + (f" ({left})" if left else "")
    parts = []
    if w["resets_in"] is not None:
        parts.append(f"resets in {span(w['resets_in'])}")
    if w["exhausted_at"] is not None:
        parts.append(f"at this pace runs out {_clock_time(w['exhausted_at'])}")
    return MeterData(key, title, used, text, "; ".join(parts).capitalize())


def key_meters(key: ClientKeyStatus) -> list[MeterData]:
    """A live key's meters, one per limit it has; a revoked key has none."""
    if key["revoked_at"] is not None:
        return []
    out = []
    for limit, counts in key.get("usage", {}).items():
        if counts["limit"]:
            out.append(
                MeterData(
                    f"key:{key['id']}/{limit}",
                    f"Client key {key['label'] or key['id']} — {LIMIT_NAMES.get(limit, limit)}",
                    100.0 * counts["used"] / counts["limit"],
                    _used_of(limit, counts["used"], counts["limit"]),
                    "",
                )
            )
    return out


def meters(status: StatusDocument | None) -> list[MeterData]:
    """Every window's meter and every client key's, by limit; none before the first status."""
    if status is None:
        return []
    out = [window_meter(w) for w in status.get("quota", [])]
    if (access := status.get("access")) is not None:
        for key in access["keys"]:
            out.extend(key_meters(key))
    return out
