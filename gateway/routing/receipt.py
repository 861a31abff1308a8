"""A plan told as a person (or a dashboard) reads it: the name asked for and the rule that routed
it, the difficulty and what made it, the preference and the measured latencies that ordered the
routes, the route chosen, the alternatives in order, and every route left out with the reason."""

from __future__ import annotations

from typing import Any

from gateway.routing.router import Plan


def receipt(plan: Plan, requested: str, rule: str) -> dict[str, Any]:
    """``rule``: which fired (``Router.rule``): an alias, a glob, ``default``, an enforced name."""
    out: dict[str, Any] = {"model": plan.name, "requested": requested, "rule": rule}
    if plan.difficulty is not None:
        out["difficulty"] = {"level": plan.difficulty.level, "scores": dict(plan.difficulty.scores)}
    if plan.prefer is not None:
        out["prefer"] = plan.prefer
    if plan.latencies:
        out["latency_ms"] = {route: round(ms, 1) for route, ms in plan.latencies}
    out["chosen"] = plan.candidates[0].route if plan.candidates else None
    out["alternatives"] = [c.route for c in plan.candidates[1:]]
    out["rejected"] = [
        {
            "route": r.route,
            "reason": r.reason,
            **({"seconds_left": round(r.seconds, 1)} if r.seconds is not None else {}),
        }
        for r in plan.rejected
    ]
    return out
