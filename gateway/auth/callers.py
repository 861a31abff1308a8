"""Who is calling and what their tier allows: requests and tokens per minute and per day, and
optionally a dollar budget per day and per month."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Quota:
    """Requests and tokens per minute and per day, dollars per day and per month; None is unlimited.
    No tier has a dollar budget: a key gets one of its own. A month is a sliding 30 days, as every
    other window slides (a key never gets a fresh month all at once on the 1st)."""

    requests_per_minute: int | None = None
    requests_per_day: int | None = None
    tokens_per_minute: int | None = None
    tokens_per_day: int | None = None
    dollars_per_day: float | None = None
    dollars_per_month: float | None = None

    def over(self, overrides: Mapping[str, Any]) -> Quota:
        return replace(self, **{k: v for k, v in overrides.items() if k in LIMIT_NAMES})


LIMIT_NAMES = tuple(f.name for f in fields(Quota))
DOLLAR_LIMITS = ("dollars_per_day", "dollars_per_month")  # amounts of money, not whole counts
TIERS: dict[str, Quota] = {
    "free": Quota(20, 2_000, 40_000, 500_000),
    "standard": Quota(60, 10_000, 200_000, 5_000_000),
    "admin": Quota(200, 100_000, 1_000_000, 50_000_000),
    "custom": Quota(60, 10_000, 200_000, 5_000_000),  # standard, until its overrides say otherwise
}
UNLIMITED = Quota()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: ``id`` is a client key's id, or "local" for a trusted loopback caller."""

    id: str
    tier: str
    quota: Quota
    label: str = ""
    enforce_model: str | None = None  # the model serving its every chat request, whatever it names


LOCAL = Caller("local", "local", UNLIMITED, "this computer")


def quota_for(tier: str, overrides: Mapping[str, Any]) -> Quota:
    return TIERS[tier].over(overrides)
