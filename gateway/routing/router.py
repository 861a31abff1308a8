"""The requested name becomes an ordered list of candidates: (provider, key, upstream model).

A name is an alias (its chain, in order), a pinned ``provider/model``, or a bare model name (every
provider that lists it, in configuration order). Each route then expands into its provider's keys
in rotation order: next key, then next model or provider. Keys that may not serve now (cooling
down for that model, benched, breaker open) are left out and noted with the reason, so a request
that has nowhere to go is answered at once, and a dry run can say why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.core.models import Target
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import Credential, KeyPool


@dataclass(frozen=True, slots=True)
class Candidate:
    target: Target
    cred: Credential

    @property
    def route(self) -> str:
        """The route as headers and logs name it: never the secret, only the key's label."""
        return f"{self.target.provider}/{self.target.upstream_model}; key={self.cred.label}"


@dataclass(frozen=True, slots=True)
class Rejection:
    route: str
    reason: str
    seconds: float | None = None  # until it may serve again, when that is known

    def describe(self) -> str:
        return self.reason if self.seconds is None else f"{self.reason} ({self.seconds:.0f} s left)"


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    candidates: tuple[Candidate, ...]
    rejected: tuple[Rejection, ...] = ()


class Router:
    def __init__(
        self,
        index: ModelIndex,
        pools: Mapping[str, KeyPool],
        health: Health,
        aliases: Iterable[tuple[str, tuple[str, ...]]] = (),
    ) -> None:
        self._index = index
        self._pools = pools
        self.health = health
        self.aliases = {name: chain for name, chain in aliases}

    def targets(self, name: str) -> tuple[Target, ...]:
        """The routes a name stands for, first choice first; () when nothing serves it."""
        chain = self.aliases.get(name)
        if chain is None:
            return self._index.resolve_all(name)
        out: list[Target] = []
        for ref in chain:
            out.extend(t for t in self._index.resolve_all(ref) if t not in out)
        return tuple(out)

    def plan(self, name: str, targets: Iterable[Target]) -> Plan:
        candidates: list[Candidate] = []
        rejected: list[Rejection] = []
        health = self.health
        for target in targets:
            pool = self._pools.get(target.provider)
            if pool is None:
                continue
            for cred in pool.order():
                blocked = health.blocked(cred, target.upstream_model)
                if blocked is None:
                    candidates.append(Candidate(target, cred))
                else:
                    route = Candidate(target, cred).route
                    rejected.append(Rejection(route, blocked[0], blocked[1]))
        return Plan(name, tuple(candidates), tuple(rejected))
