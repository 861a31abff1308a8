"""The requested name becomes an ordered list of candidates: (provider, key, upstream model).

A name is an alias or matches a glob rule (its chain, in order), ``auto`` (chosen by the request's
difficulty), a pinned ``provider/model``, or a bare model name (every provider that lists it, in
configuration order); a name nothing serves takes the ``default`` rule's chain, if there is one. An
enforced model, where configured, stands in for whatever name the client asked for.
Where there is a choice, routes whose model cannot take the request (tools, images, too long a
prompt, too large a body) are left out; ``auto:fast`` (or the prefer header) puts the fastest
measured of the rest first, ``auto:local`` the local servers' models. Each route then expands into
its provider's keys in rotation order: next key, then next model or provider. Keys that may not serve now (cooling down
for that model, benched, breaker open) are left out too. Everything left out is noted with its
reason, so a request with nowhere to go is answered at once and a dry run can say why. Last,
a conversation's own key goes first while it is healthy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from gateway.core.models import ModelFacts, Target
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.difficulty import Difficulty, rate
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import Credential, KeyPool
from gateway.routing.preference import Prefer, fastest_first, local_first
from gateway.routing.rules import Rule, Rules
from gateway.routing.traits import Traits

AUTO = "auto"
# auto and its modes: the fastest measured route, or local servers first (cloud only when none can take it)
AUTOS: dict[str, Prefer | None] = {AUTO: None, "auto:fast": "fast", "auto:local": "local"}
AUTO_ROUTES = 5  # the chosen model and its alternatives, tried in turn
_BELOW = {r: {level: f"rating {r} < difficulty {level}" for level in range(1, 6)} for r in range(1, 6)}


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
        not_auto: Iterable[str] = (),
        enforced: str | None = None,
    ) -> None:
        """``aliases``: the model rules, in file order; ``not_auto``: providers ``auto`` never picks
        (subscriptions, when the user says so); ``enforced``: the name served whatever is asked."""
        self._index = index
        self._pools = pools
        self.health = health
        self.capabilities = capabilities
        self.affinity = affinity
        self.rules = Rules(aliases)
        self.aliases = {name: rule.chain for name, rule in self.rules.exact.items()}
        self.enforced = enforced
        self._chains: dict[str, tuple[Target, ...]] = {}  # a rule's routes, for the model lists of _chains_version
        self._chains_version = -1
        self._payload_limits = dict(payload_limits or {})  # provider -> most body bytes it takes
        self._smallest_payload_limit = min(self._payload_limits.values(), default=float("inf"))
        self._auto_version = -1
        self._auto_routes: tuple[_Rated, ...] = ()
        self._smallest_context = 0
        self._turn = 0  # rotates ties between equally cheap models
        self._not_auto = frozenset(not_auto)

    # --- names -------------------------------------------------------------------------------

    def targets(self, name: str, enforce: bool = True) -> tuple[Target, ...]:
        """The routes a name stands for, first choice first; () when nothing serves it. ``enforce``:
        False where the enforced model cannot stand in (it serves chat, not embeddings)."""
        if enforce and self.enforced is not None:
            name = self.enforced
        if name in AUTOS:
            return tuple(r.target for r in self._rated())
        rule = self.rules.match(name)
        if rule is None:
            targets = self._index.resolve_all(name)
            if targets or self.rules.default is None:
                return targets
            rule = self.rules.default
        return self._chain(rule)

    def _chain(self, rule: Rule) -> tuple[Target, ...]:
        """A rule's routes, worked out once for each version of the model lists."""
        index = self._index
        if self._chains_version != index.version:
            self._chains, self._chains_version = {}, index.version
        targets = self._chains.get(rule.key)
        if targets is None:
            out: list[Target] = []
            for ref in rule.chain:
                out.extend(t for t in index.resolve_all(ref) if t not in out)
            targets = self._chains[rule.key] = tuple(out)
        return targets

    def rule(self, name: str) -> str:
        """Which rule routes ``name``, as the ``decide`` receipt says it."""
        if self.enforced is not None:
            return f'enforced "{self.enforced}" ({self._rule_of(self.enforced)})'
        return self._rule_of(name)

    def _rule_of(self, name: str) -> str:
        if name in AUTOS:
            return name
        rule = self.rules.match(name)
        if rule is None and self.rules.default is not None and not self._index.resolve_all(name):
            rule = self.rules.default
        return "model" if rule is None else rule.fired

    def _rated(self) -> tuple[_Rated, ...]:
        """Every listed chat model with a rating, cheapest first (unknown prices last), the
        least capable first among equals: the smallest model that can do the job is the fastest."""
        if self._auto_version != self._index.version:
            routes = []
            for entry in self._index.entries():
                if entry.provider in self._not_auto:
                    continue
                target = Target(entry.provider, entry.upstream_id)
                facts = self.capabilities.of(target)
                if facts.rating and "completion" in facts.capabilities:
                    routes.append(_Rated(target, facts, _route(target), _price(facts)))
            routes.sort(key=lambda r: (r.price, r.facts.rating))
            self._auto_routes, self._auto_version = tuple(routes), self._index.version
            self._smallest_context = min((r.facts.context_length for r in routes), default=0)
        return self._auto_routes

    # --- plans -------------------------------------------------------------------------------

    def plan(
        self,
        name: str,
        targets: Iterable[Target],
        traits: Callable[[], Traits] | None = None,
        conversation: Callable[[], str] | None = None,
        prefer: Prefer | None = None,
    ) -> Plan:
        """The candidates for a request. ``traits`` and ``conversation`` are asked only when
        there is a choice to make; ``prefer`` (the request's header) orders a choice as ``auto:fast``
        or ``auto:local`` would."""
        rejected: list[Rejection] = []
        difficulty = None
        targets = tuple(targets)
        if self.enforced is not None:
            name = self.enforced
        used: dict[str, float] = {}
        if name in AUTOS:
            prefer = AUTOS[name] or prefer
        if name in AUTOS and traits is not None:
            found = traits()
            difficulty = rate(found)
            targets = self._auto(found, difficulty, rejected, prefer, used)
        elif len(targets) > 1 and traits is not None:
            targets = self._fit(targets, traits(), rejected)
            if prefer == "fast":
                targets = tuple(fastest_first(targets, _route, self.health.latency_ms, used))
            elif prefer == "local":
                targets = tuple(local_first(targets, _provider, self.health.local))
        resting: list[tuple[float, Candidate]] = []
        candidates = self._keys(targets, rejected, resting)
        probe = not candidates and bool(resting)
        if probe:  # fail soft: the endpoint may be back; refuse only if this probe fails too
            candidates = [min(resting, key=lambda r: r[0])[1]]
        key = None
        if conversation is not None and len(candidates) > 1:
            key = conversation()
            candidates = self._affine(candidates, key)
        keyless = () if candidates else tuple(dict.fromkeys(t.provider for t in targets if self._keyless(t.provider)))
        latencies = tuple(used.items())
        return Plan(name, tuple(candidates), tuple(rejected), difficulty, key, keyless, probe, prefer, latencies)

    def _auto(
        self,
        traits: Traits,
        difficulty: Difficulty,
        rejected: list[Rejection],
        prefer: Prefer | None = None,
        used: dict[str, float] | None = None,
    ) -> tuple[Target, ...]:
        level = difficulty.level
        able: list[_Rated] = []
        below: list[_Rated] = []  # fit, but rated under the level
        routes = self._rated()
        # The usual request (no tools, no images, a prompt every model can hold) needs no check.
        plain = (
            not traits.tools
            and not traits.images
            and traits.prompt_tokens <= self._smallest_context
            and traits.size <= self._smallest_payload_limit
        )
        for rated in routes:
            why = None if plain else self._unfit(rated.target, rated.facts, traits)
            if why is not None:
                rejected.append(Rejection(rated.route, why))
            elif rated.facts.rating < level:
                below.append(rated)
            else:
                able.append(rated)
        used = {} if used is None else used
        if prefer == "local":  # a local model rated under the level beats the cloud: the user said so
            local = self.health.local
            below.sort(key=lambda r: (-r.facts.rating, r.price))
            mine = [r for r in able if r.target.provider in local] + [r for r in below if r.target.provider in local]
            below = [r for r in below if r.target.provider not in local]
            able = mine + [r for r in able if r.target.provider not in local]
        if not able:  # nothing rated high enough: the best there is, best first
            able = sorted(below, key=lambda r: (-r.facts.rating, r.price))
        else:
            rejected.extend(Rejection(r.route, _BELOW[r.facts.rating][level]) for r in below)
        if prefer is not None:
            if prefer == "fast":
                able = fastest_first(able, _rated_route, self.health.latency_ms, used)
            return tuple(r.target for r in able[:AUTO_ROUTES])
        chosen = able[:AUTO_ROUTES]
        first = chosen[0] if chosen else None
        ties = sum(1 for r in chosen if first and (r.price, r.facts.rating) == (first.price, first.facts.rating))
        if ties > 1 and all(self.health.latency_ms(r.route) is not None for r in chosen[:ties]):
            chosen = fastest_first(chosen[:ties], _rated_route, self.health.latency_ms, used) + chosen[ties:]
        elif ties > 1:  # not all measured yet: they take turns, which measures each
            turn = self._turn % ties
            self._turn += 1
            chosen = chosen[turn:ties] + chosen[:turn] + chosen[ties:]
        return tuple(r.target for r in chosen)

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

    def _keys(
        self, targets: Iterable[Target], rejected: list[Rejection], resting: list[tuple[float, Candidate]] | None = None
    ) -> list[Candidate]:
        """The keys that may serve now; with ``resting``, the ones only their breaker holds back are
        put there too, with how long it will."""
        candidates: list[Candidate] = []
        health = self.health
        for target in targets:
            pool = self._pools.get(target.provider)
            if pool is None:
                continue
            for cred in pool.order():
                if cred.source is not None and (problem := cred.source.problem()):
                    rejected.append(Rejection(Candidate(target, cred).route, problem))
                    continue
                blocked = health.blocked(cred, target.upstream_model)
                if blocked is None:
                    candidates.append(Candidate(target, cred))
                else:
                    rejected.append(Rejection(Candidate(target, cred).route, blocked[0], blocked[1]))
                    if resting is not None and blocked[0] == "breaker_open":
                        resting.append((blocked[1], Candidate(target, cred)))
        return candidates

    def embedders(self) -> tuple[Target, ...]:
        """What ``auto`` stands for on an embeddings request: every listed embedding model."""
        entries = self._index.entries()
        targets = (Target(e.provider, e.upstream_id) for e in entries)
        return tuple(t for t in targets if "embedding" in self.capabilities.of(t).capabilities)

    def readiness(self, target: Target) -> tuple[bool, tuple[Rejection, ...]]:
        """Whether some key or account may serve ``target`` now, and why the others may not (what
        the Models page shows): the same test a plan makes of its candidates."""
        rejected: list[Rejection] = []
        return bool(self._keys((target,), rejected)), tuple(rejected)

    def _keyless(self, provider: str) -> bool:
        pool = self._pools.get(provider)
        return pool is None or not pool.credentials

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


@dataclass(frozen=True, slots=True)
class _Rated:
    target: Target
    facts: ModelFacts
    route: str
    price: float


def _route(target: Target) -> str:
    return f"{target.provider}/{target.upstream_model}"


def _provider(target: Target) -> str:
    return target.provider


_rated_route: Callable[[_Rated], str] = attrgetter("route")


def _price(facts: ModelFacts) -> float:
    """Dollars per million tokens, blended three input to one output (prompts outweigh answers);
    unknown prices sort last."""
    return float("inf") if facts.cost is None else (3 * facts.cost[0] + facts.cost[1]) / 4
