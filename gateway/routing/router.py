"""The requested name becomes an ordered list of candidates: (provider, key, upstream model).

A name is an alias (its chain, in order), ``auto`` (chosen by the request's difficulty), a pinned
``provider/model``, or a bare model name (every provider that lists it, in configuration order).
Where there is a choice, routes whose model cannot take the request (tools, images, too long a
prompt, too large a body) are left out. Each route then expands into its provider's keys in
rotation order: next key, then next model or provider. Keys that may not serve now (cooling down
for that model, benched, breaker open) are left out too. Everything left out is noted with its
reason, so a request with nowhere to go is answered at once and a dry run can say why. Last,
a conversation's own key goes first while it is healthy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from gateway.core.models import ModelFacts, Target
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.difficulty import Difficulty, rate
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import Credential, KeyPool
from gateway.routing.traits import Traits

AUTO = "auto"
AUTO_ROUTES = 5  # the chosen model and its alternatives, tried in turn


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


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    candidates: tuple[Candidate, ...]
    rejected: tuple[Rejection, ...] = ()
    difficulty: Difficulty | None = None
    conversation: str | None = None  # the affinity record this request reads and writes


class Router:
    def __init__(
        self,
        index: ModelIndex,
        pools: Mapping[str, KeyPool],
        health: Health,
        capabilities: Capabilities,
        affinity: Affinity,
        aliases: Iterable[tuple[str, tuple[str, ...]]] = (),
        payload_limits: Mapping[str, int] | None = None,
    ) -> None:
        self._index = index
        self._pools = pools
        self.health = health
        self.capabilities = capabilities
        self.affinity = affinity
        self.aliases = {name: chain for name, chain in aliases}
        self._payload_limits = dict(payload_limits or {})  # provider -> most body bytes it takes
        self._auto_version = -1
        self._auto_routes: tuple[tuple[Target, ModelFacts], ...] = ()
        self._turn = 0  # rotates ties between equally cheap models

    # --- names -------------------------------------------------------------------------------

    def targets(self, name: str) -> tuple[Target, ...]:
        """The routes a name stands for, first choice first; () when nothing serves it."""
        if name == AUTO:
            return tuple(target for target, _ in self._rated())
        chain = self.aliases.get(name)
        if chain is None:
            return self._index.resolve_all(name)
        out: list[Target] = []
        for ref in chain:
            out.extend(t for t in self._index.resolve_all(ref) if t not in out)
        return tuple(out)

    def _rated(self) -> tuple[tuple[Target, ModelFacts], ...]:
        """Every listed chat model with a rating, cheapest first (unknown prices last)."""
        if self._auto_version != self._index.version:
            routes = []
            for entry in self._index.entries():
                target = Target(entry.provider, entry.upstream_id)
                facts = self.capabilities.of(target)
                if facts.rating and "completion" in facts.capabilities:
                    routes.append((target, facts))
            routes.sort(key=lambda r: (_price(r[1]), -r[1].rating))
            self._auto_routes, self._auto_version = tuple(routes), self._index.version
        return self._auto_routes

    # --- plans -------------------------------------------------------------------------------

    def plan(
        self,
        name: str,
        targets: Iterable[Target],
        traits: Callable[[], Traits] | None = None,
        conversation: Callable[[], str] | None = None,
    ) -> Plan:
        """The candidates for a request. ``traits`` and ``conversation`` are asked only when
        there is a choice to make."""
        rejected: list[Rejection] = []
        difficulty = None
        targets = tuple(targets)
        if name == AUTO and traits is not None:
            found = traits()
            difficulty = rate(found)
            targets = self._auto(found, difficulty, rejected)
        elif len(targets) > 1 and traits is not None:
            targets = self._fit(targets, traits(), rejected)
        candidates = self._keys(targets, rejected)
        key = None
        if conversation is not None and len(candidates) > 1:
            key = conversation()
            candidates = self._affine(candidates, key)
        return Plan(name, tuple(candidates), tuple(rejected), difficulty, key)

    def _auto(self, traits: Traits, difficulty: Difficulty, rejected: list[Rejection]) -> tuple[Target, ...]:
        level = difficulty.level
        able: list[tuple[Target, ModelFacts]] = []
        fallback: list[tuple[Target, ModelFacts]] = []  # fit, but rated below the level
        for target, facts in self._rated():
            why = self._unfit(target, facts, traits)
            if why is not None:
                rejected.append(Rejection(_route(target), why))
            elif facts.rating < level:
                fallback.append((target, facts))
            else:
                able.append((target, facts))
        if not able:  # nothing rated high enough: the best there is, best first
            able = sorted(fallback, key=lambda r: (-r[1].rating, _price(r[1])))
        else:
            rejected.extend(Rejection(_route(t), f"rating {f.rating} < difficulty {level}") for t, f in fallback)
        chosen = [target for target, _ in able[:AUTO_ROUTES]]
        if len(chosen) > 1:
            cheapest = _price(able[0][1])
            ties = sum(1 for _, facts in able[: len(chosen)] if _price(facts) == cheapest)
            if ties > 1:
                turn = self._turn % ties
                self._turn += 1
                chosen = chosen[turn:ties] + chosen[:turn] + chosen[ties:]
        return tuple(chosen)

    def _fit(self, targets: tuple[Target, ...], traits: Traits, rejected: list[Rejection]) -> tuple[Target, ...]:
        """The targets whose model can take the request; all of them if none can (the config's
        facts may be wrong, and the upstream will say so)."""
        fit = []
        for target in targets:
            why = self._unfit(target, self.capabilities.of(target), traits)
            if why is None:
                fit.append(target)
            else:
                rejected.append(Rejection(_route(target), why))
        if fit:
            return tuple(fit)
        del rejected[len(rejected) - len(targets) :]
        return targets

    def _unfit(self, target: Target, facts: ModelFacts, traits: Traits) -> str | None:
        capabilities = facts.capabilities
        if "completion" not in capabilities:
            return "not a chat model"
        if traits.tools and "tools" not in capabilities:
            return "no tool use"
        if traits.images and "vision" not in capabilities:
            return "no image input"
        if traits.prompt_tokens > facts.context_length:
            return f"prompt of ~{traits.prompt_tokens} tokens > context of {facts.context_length}"
        limit = self._payload_limits.get(target.provider)
        if limit and traits.size > limit:
            return f"body of {traits.size} bytes > provider limit of {limit}"
        return None

    def _keys(self, targets: Iterable[Target], rejected: list[Rejection]) -> list[Candidate]:
        candidates: list[Candidate] = []
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
                    rejected.append(Rejection(Candidate(target, cred).route, blocked[0], blocked[1]))
        return candidates

    def _affine(self, candidates: list[Candidate], conversation: str) -> list[Candidate]:
        label = self.affinity.label(conversation)
        if label is None:
            return candidates
        own = [c for c in candidates if c.cred.label == label]
        return own + [c for c in candidates if c.cred.label != label] if own else candidates

    def served(self, plan: Plan, candidate: Candidate) -> None:
        """The candidate answered: its key holds the conversation from now on."""
        if plan.conversation is not None:
            self.affinity.remember(plan.conversation, candidate.cred.label)


def _route(target: Target) -> str:
    return f"{target.provider}/{target.upstream_model}"


def _price(facts: ModelFacts) -> float:
    """Dollars per million tokens, blended three input to one output (prompts outweigh answers);
    unknown prices sort last."""
    return float("inf") if facts.cost is None else (3 * facts.cost[0] + facts.cost[1]) / 4
