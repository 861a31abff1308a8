"""What ``auto`` chooses from: every listed chat model with a rating, cheapest first, and the
usual request's choice at each difficulty level, made once for each version of the model lists so
that a request only reads it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.core.models import ModelFacts, Target
from gateway.routing.plan import Rejection

AUTO_ROUTES = 5  # the chosen model and its alternatives, tried in turn
BELOW = {r: {level: f"rating {r} < difficulty {level}" for level in range(1, 6)} for r in range(1, 6)}


@dataclass(frozen=True, slots=True)
class Rated:
    target: Target
    facts: ModelFacts
    route: str
    price: float


def best_first(rated: Rated) -> tuple[int, float]:
    """The best rated first, the cheaper first among equals."""
    return -rated.facts.rating, rated.price


def ties(chosen: Sequence[Rated]) -> int:
    """How many at the head of ``chosen`` are as cheap and as able as the first."""
    if not chosen:
        return 0
    first = (chosen[0].price, chosen[0].facts.rating)
    return sum(1 for r in chosen if (r.price, r.facts.rating) == first)


@dataclass(frozen=True, slots=True)
class Level:
    """The usual request's choice at one difficulty level (no tools or images, a prompt every
    model holds): no route needs a check of its own."""

    able: tuple[Rated, ...]
    below: tuple[Rated, ...]  # rated under the level
    rejections: tuple[Rejection, ...]  # the below, as a plan reports them (none when nothing is able)
    chosen: tuple[Rated, ...]  # the routes tried in turn, before ties are ordered
    ties: int

    @staticmethod
    def of(routes: Sequence[Rated], level: int) -> Level:
        able = tuple(r for r in routes if r.facts.rating >= level)
        below = tuple(r for r in routes if r.facts.rating < level)
        if not able:  # nothing rated high enough: the best there is, best first
            chosen = tuple(sorted(below, key=best_first)[:AUTO_ROUTES])
            return Level(able, below, (), chosen, ties(chosen))
        rejections = tuple(Rejection(r.route, BELOW[r.facts.rating][level]) for r in below)
        return Level(able, below, rejections, able[:AUTO_ROUTES], ties(able[:AUTO_ROUTES]))


def price(facts: ModelFacts) -> float:
    """Dollars per million tokens, blended three input to one output (prompts outweigh answers);
    unknown prices sort last."""
    return float("inf") if facts.cost is None else (3 * facts.cost[0] + facts.cost[1]) / 4
