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
from operator import attrgetter

from gateway.core.models import ModelFacts, Target
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.difficulty import Difficulty, rate
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.plan import Candidate as Candidate
from gateway.routing.plan import Plan as Plan
from gateway.routing.plan import Rejection as Rejection
from gateway.routing.pool import KeyPool
from gateway.routing.preference import Prefer, fastest_first, local_first
from gateway.routing.rated import AUTO_ROUTES as AUTO_ROUTES
from gateway.routing.rated import BELOW, Level, Rated, best_first, price, ties
from gateway.routing.rules import MAX_REMEMBERED, Rule, Rules
from gateway.routing.traits import Traits

AUTO = "auto"
# auto and its modes: the fastest measured route, or local servers first (cloud only when none can take it)
AUTOS: dict[str, Prefer | None] = {AUTO: None, "auto:fast": "fast", "auto:local": "local"}


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
        # The rules that are names a client may ask for, listed as models: not default, nor a glob.
        self.names = tuple(name for name, rule in self.rules.exact.items() if rule.kind == "alias")
        self.enforced = enforced
        self._chains: dict[str, tuple[Target, ...]] = {}  # a rule's routes, for the model lists of _chains_version
        self._chains_version = -1
        self._named: dict[str, tuple[Target, ...]] = {}  # a name's routes, for the model lists of _named_version
        self._named_version = -1
        self._candidates: dict[tuple[str, str], dict[str, Candidate]] = {}  # (provider, model) -> key label -> it
        self._payload_limits = dict(payload_limits or {})  # provider -> most body bytes it takes
        self._smallest_payload_limit = min(self._payload_limits.values(), default=float("inf"))
        self._auto_version = -1
        self._auto_routes: tuple[Rated, ...] = ()
        self._auto_targets: tuple[Target, ...] = ()
        self._levels: tuple[Level, ...] = ()  # by difficulty: the usual request's choice, made once
        self._smallest_context = 0
        self._turn = 0  # rotates ties between equally cheap models
        self._not_auto = frozenset(not_auto)

    # --- names -------------------------------------------------------------------------------

    def targets(self, name: str, enforce: bool = True) -> tuple[Target, ...]:
        """The routes a name stands for, first choice first; () when nothing serves it. ``enforce``:
        False where the enforced model cannot stand in (it serves chat, not embeddings). Worked out
        once a name for each version of the model lists: the same few names arrive all day."""
        if enforce and self.enforced is not None:
            name = self.enforced
        if self._named_version != self._index.version:
            self._named, self._named_version = {}, self._index.version
        named = self._named
        targets = named.get(name)
        if targets is None:
            targets = self._resolve(name)
            if len(named) >= MAX_REMEMBERED:
                named.clear()  # names come from clients: keep the memory bounded
            named[name] = targets
        return targets

    def _resolve(self, name: str) -> tuple[Target, ...]:
        if name in AUTOS:
            self._rated()
            return self._auto_targets
        rule = self.rules.match(name)
        if rule is None:
            targets = self._index.resolve_all(name)
            if targets or self.rules.default is None:
                return targets
            rule = self.rules.default
        return self.chain(rule)

    def chain(self, rule: Rule) -> tuple[Target, ...]:
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

    def _rated(self) -> tuple[Rated, ...]:
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
                    routes.append(Rated(target, facts, _route(target), price(facts)))
            routes.sort(key=lambda r: (r.price, r.facts.rating))
            self._auto_routes, self._auto_version = tuple(routes), self._index.version
            self._auto_targets = tuple(r.target for r in routes)
            self._levels = tuple(Level.of(self._auto_routes, level) for level in range(6))
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
            if traits is not None:
                found = traits()
                difficulty = rate(found)
                targets = self._auto(found, difficulty, rejected, prefer, used)
        elif traits is not None and len(targets) > 1:
            targets = self._fit(targets, traits(), rejected)
            if prefer == "fast":
                targets = tuple(fastest_first(targets, _route, self.health.latency_ms, used))
            elif prefer == "local":
                targets = tuple(local_first(targets, _provider, self.health.local))
        resting: list[tuple[float, Candidate]] = []
        candidates = self._keys(targets, rejected, resting)
        probe = not candidates and bool(resting)
        if probe:  # fail soft: the endpoint may be back; refuse only if this probe fails too
            candidates = [min(resting, key=_first)[1]]
        key = None
        if conversation is not None and len(candidates) > 1:
            key = conversation()
            candidates = self._affine(candidates, key)
        keyless = () if candidates else tuple(dict.fromkeys(t.provider for t in targets if self._keyless(t.provider)))
        latencies = tuple(used.items()) if used else ()
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
        routes = self._rated()
        used = {} if used is None else used
        # The usual request (no tools, no images, a prompt every model can hold) needs no check:
        # its choice for each level was made with the rated list.
        if (
            not traits.tools
            and not traits.images
            and traits.prompt_tokens <= self._smallest_context
            and traits.size <= self._smallest_payload_limit
        ):
            split = self._levels[level]
            if prefer is None:
                rejected.extend(split.rejections)
                return self._tied(split.chosen, split.ties, used)
            able, below = list(split.able), list(split.below)
        else:
            able, below = [], []  # below: fit, but rated under the level
            for rated in routes:
                why = self._unfit(rated.target, rated.facts, traits)
                if why is not None:
                    rejected.append(Rejection(rated.route, why))
                elif rated.facts.rating < level:
                    below.append(rated)
                else:
                    able.append(rated)
        if prefer == "local":  # a local model rated under the level beats the cloud: the user said so
            local = self.health.local
            below.sort(key=best_first)
            mine = [r for r in able if r.target.provider in local] + [r for r in below if r.target.provider in local]
            below = [r for r in below if r.target.provider not in local]
            able = mine + [r for r in able if r.target.provider not in local]
        if not able:  # nothing rated high enough: the best there is, best first
            able = sorted(below, key=best_first)
        else:
            rejected.extend(Rejection(r.route, BELOW[r.facts.rating][level]) for r in below)
        if prefer is not None:
            if prefer == "fast":
                able = fastest_first(able, _rated_route, self.health.latency_ms, used)
            return tuple(r.target for r in able[:AUTO_ROUTES])
        chosen = able[:AUTO_ROUTES]
        return self._tied(tuple(chosen), ties(chosen), used)

    def _tied(self, chosen: tuple[Rated, ...], ties: int, used: dict[str, float]) -> tuple[Target, ...]:
        """``chosen`` with its first ``ties`` (equally cheap and able) ordered by measured latency,
        or taking turns while not all of them are measured (which measures each)."""
        if ties > 1:
            latency = self.health.latency_ms
            if all(latency(r.route) is not None for r in chosen[:ties]):
                chosen = (*fastest_first(chosen[:ties], _rated_route, latency, used), *chosen[ties:])
            else:
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
        calm = health.calm()  # nothing benched, cooling or broken: no key needs asking
        known = self._candidates
        for target in targets:
            pool = self._pools.get(target.provider)
            if pool is None:
                continue
            # Candidates are remembered, by route and key label: a request's usual routes are the
            # same few, and a frozen object costs more to make than to look up.
            route = (target.provider, target.upstream_model)
            mine = known.get(route)
            if mine is None:
                if len(known) >= MAX_REMEMBERED:
                    known.clear()  # pinned names come from clients: keep the memory bounded
                mine = known[route] = {}
            for cred in pool.order():
                candidate = mine.get(cred.label)
                if candidate is None or candidate.cred is not cred:
                    candidate = mine[cred.label] = Candidate(target, cred)
                if cred.source is not None and (problem := cred.source.problem()):
                    rejected.append(Rejection(candidate.route, problem))
                    continue
                blocked = None if calm else health.blocked(cred, target.upstream_model)
                if blocked is None:
                    candidates.append(candidate)
                else:
                    rejected.append(Rejection(candidate.route, blocked[0], blocked[1]))
                    if resting is not None and blocked[0] == "breaker_open":
                        resting.append((blocked[1], candidate))
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


def _route(target: Target) -> str:
    return f"{target.provider}/{target.upstream_model}"


def _provider(target: Target) -> str:
    return target.provider


_rated_route: Callable[[Rated], str] = attrgetter("route")


def _first(pair: tuple[float, Candidate]) -> float:
    return pair[0]
