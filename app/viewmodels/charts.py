"""What the charts draw, without Qt: tokens or dollars per provider in each hour or day (stacked bars), and a
quota window's burn-down (the share left over the window's time, and where this pace leads)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gateway import NamedSpanTotals, QuotaReading

OTHERS = "others"
Measure = Literal["total_tokens", "cost"]
MOST_SERIES = 6  # more stacks than this are hard to tell apart: the smallest are summed as "others"


def stacked(
    rows: Sequence[NamedSpanTotals], starts: Sequence[float], measure: Measure = "total_tokens"
) -> dict[str, list[float]]:
    """Each name's tokens (or dollars: ``measure`` "cost") in each bucket of ``starts``, the biggest
    name first, at most ``MOST_SERIES`` of them (the rest summed as "others"); names with none are
    left out."""
    index = {int(start): n for n, start in enumerate(starts)}
    series: dict[str, list[float]] = {}
    for row in rows:
        n = index.get(row["start_s"])
        if n is None or not row[measure]:
            continue
        series.setdefault(row["name"] or "unknown", [0.0] * len(starts))[n] += row[measure]
    ranked = sorted(series, key=lambda name: (-sum(series[name]), name))
    if len(ranked) <= MOST_SERIES:
        return {name: series[name] for name in ranked}
    kept = {name: series[name] for name in ranked[: MOST_SERIES - 1]}
    rest = [sum(values) for values in zip(*(series[name] for name in ranked[MOST_SERIES - 1 :]), strict=True)]
    return {**kept, OTHERS: rest}


@dataclass(frozen=True, slots=True)
class BurnDown:
    """A window's share left (percent) over its time, from its start (0.0) to its reset (1.0)."""

    seen: tuple[tuple[float, float], ...]  # (elapsed share, percent left), the start's 100 % first
    projected: tuple[float, float] | None  # where this pace leads: (elapsed share, percent left)
    runs_out: bool  # before the reset, at this pace (the gateway's forecast)


def burn_down(w: QuotaReading, samples: Sequence[tuple[float, float]] = ()) -> BurnDown | None:
    """From a reading, and earlier ``samples`` of the same window period as (taken at, percent
    used); None for a window with no known length or reset, unlimited, or past its reset (its
    period is over: a new one begins with the next report)."""
    length, resets_at = w["window_seconds"], w["resets_at"]
    if w["unlimited"] or w["reset"] or not length or resets_at is None:
        return None
    start = resets_at - length

    def at(t: float) -> float:
        return min(1.0, max(0.0, (t - start) / length))

    points = [(0.0, 100.0)]
    for taken, used in sorted({*samples, (w["taken_at"], w["used_percent"])}):
        if start <= taken <= resets_at:
            points.append((at(taken), max(0.0, 100.0 - used)))
    now, left = points[-1]
    exhausted = w["exhausted_at"]
    if exhausted is not None and exhausted < resets_at:  # the gateway's own forecast, as the meter says it
        return BurnDown(tuple(points), (at(exhausted), 0.0), True)
    if now <= 0.0 or left <= 0.0:
        return BurnDown(tuple(points), None, left <= 0.0)
    pace = (100.0 - left) / now  # percent used per share of the window, on average so far
    return BurnDown(tuple(points), (1.0, max(0.0, left - pace * (1.0 - now))), False)
