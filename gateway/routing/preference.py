"""How ``auto:fast`` and ``auto:local`` (or the ``x-switchboard-prefer`` header) order routes that
can all take a request: the fastest measured first, or the free local ones first.

A route's latency is the health's EWMA of its time to the answer. Routes not measured yet keep
their order after the measured ones: any request they serve measures them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Literal, TypeVar

Prefer = Literal["fast", "local"]
PREFER_HEADER = "x-switchboard-prefer"
PREFERENCES: dict[str, Prefer] = {"fast": "fast", "local": "local"}

R = TypeVar("R")


def fastest_first(
    routes: Sequence[R], route_of: Callable[[R], str], latency: Callable[[str], float | None], used: dict[str, float]
) -> list[R]:
    """``routes`` by measured latency, fastest first, the unmeasured after in their own order;
    each latency read goes into ``used`` (what the ``decide`` receipt shows)."""
    measured: list[tuple[float, R]] = []
    unmeasured: list[R] = []
    for r in routes:
        route = route_of(r)
        ms = latency(route)
        if ms is None:
            unmeasured.append(r)
        else:
            used[route] = ms
            measured.append((ms, r))
    measured.sort(key=_first)  # stable: equally fast routes keep their order
    return [m[1] for m in measured] + unmeasured


def _first(pair: tuple[float, object]) -> float:
    return pair[0]


def local_first(routes: Sequence[R], provider_of: Callable[[R], str], local: Collection[str]) -> list[R]:
    """``routes`` with those of local servers first, each group in its own order."""
    return [r for r in routes if provider_of(r) in local] + [r for r in routes if provider_of(r) not in local]
