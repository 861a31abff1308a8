"""What routing decides for a request: its candidate routes in order (each a model on one key or
account), and every route left out with the reason."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.models import Target
from gateway.routing.difficulty import Difficulty
from gateway.routing.pool import Credential
from gateway.routing.preference import Prefer


@dataclass(frozen=True, slots=True)
class Candidate:
    target: Target
    cred: Credential

    @property
    def route(self) -> str:
        """The route as headers and logs name it: never the secret, only the key's label (and
        the account's risk label, for a subscription)."""
        route = f"{self.target.provider}/{self.target.upstream_model}; key={self.cred.label}"
        risk = self.cred.risk
        return f"{route}; risk={risk}" if risk else route


@dataclass(frozen=True, slots=True)
class Rejection:
    route: str
    reason: str
    seconds: float | None = None  # until it may serve again, when that is known


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    candidates: tuple[Candidate, ...]
    rejected: tuple[Rejection, ...] = ()
    difficulty: Difficulty | None = None
    conversation: str | None = None  # the affinity record this request reads and writes
    keyless: tuple[str, ...] = ()  # providers asked for that have no key or account at all
    probe: bool = False  # every route rests: its one candidate is the breaker whose rest ends first
    prefer: Prefer | None = None  # auto:fast, auto:local or the request's header
    latencies: tuple[tuple[str, float], ...] = ()  # the measured ms (by route) that ordered the routes
