"""The quota meters: each window of each account and API key the gateway has seen, and each
client key's limits, as a title, a share used and a line of detail."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.viewmodels.health import span

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


def window_meter(w: Mapping[str, Any]) -> MeterData:
    name = WINDOW_NAMES.get(w["window"], w["window"].replace("_", " "))
    title = f"{w['label']} — {name}"
    if w.get("unlimited"):
        return MeterData(f"{w['label']}/{w['window']}", title, None, "unlimited", "")
    used = float(w.get("used_percent") or 0.0)
    text = f"{used:.0f} % used"
    if w.get("entitlement") and w.get("remaining") is not None:
        text += f" ({w['remaining']:,} of {w['entitlement']:,} left)"
    parts = []
    if w.get("resets_in") is not None:
        parts.append(f"resets in {span(w['resets_in'])}")
    if w.get("exhausted_at"):
        parts.append(f"at this pace runs out {_clock_time(w['exhausted_at'])}")
    return MeterData(f"{w['label']}/{w['window']}", title, used, text, "; ".join(parts).capitalize())


def key_meters(key: Mapping[str, Any]) -> list[MeterData]:
    out = []
    for limit, counts in (key.get("usage") or {}).items():
        if counts.get("limit"):
            used = 100.0 * counts["used"] / counts["limit"]
            out.append(
                MeterData(
                    f"key:{key['id']}/{limit}",
                    f"Client key {key.get('label', key['id'])} — {LIMIT_NAMES.get(limit, limit)}",
                    used,
                    f"{counts['used']:,} of {counts['limit']:,}",
                    "",
                )
            )
    return out


def meters(status: Mapping[str, Any]) -> list[MeterData]:
    out = [window_meter(w) for w in status.get("quota", [])]
    for key in (status.get("access") or {}).get("keys", []):
        out.extend(key_meters(key))
    return out
