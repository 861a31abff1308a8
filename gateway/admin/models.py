"""Every model the gateway serves, as the Models page shows it: each provider's listed models, then
the gateway's own names (aliases, ``auto``) with the routes they lead to, and the rules that are no
names (a glob such as ``claude-*``, ``default``) with theirs; for each, what is known of
it (context window, what it can take, what it costs: per million tokens, or nothing extra on a
subscription or a local server) and whether it can answer now.

A model is ``ready`` while some key or account may serve it; ``resting`` while every one of them is
held back (a rate limit's cooldown, an exhausted quota, a provider's breaker, an account to sign in
again), with why and for how long as the router has it; ``failing`` when its every route failed the
last time it was asked for; ``unavailable`` when its provider has no key or account at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, TypedDict

from gateway.core.models import GATEWAY, ModelEntry, ModelFacts, Target
from gateway.pipeline.gateway import Gateway
from gateway.providers.base import ChatProvider
from gateway.providers.settings import SUBSCRIPTIONS
from gateway.routing.router import AUTOS

SHOWN = ("tools", "vision", "thinking", "embedding")  # what a person picks by ("completion" goes without saying)

ModelKind = Literal["model", "alias", "auto", "rule"]  # rule: a glob or default (its id the pattern)
Billing = Literal["metered", "subscription", "local"]
ModelState = Literal["ready", "resting", "failing", "unavailable"]
State = tuple[ModelState, str | None, float | None]  # the state, why, and for how many seconds yet


class ModelRow(TypedDict):
    id: str  # what a tool asks for
    kind: ModelKind
    provider: str  # the provider's id; "switchboard" for an alias and for auto
    provider_name: str
    leads_to: list[str]  # an alias's, a rule's or auto's routes (provider/model), first choice first
    context: int  # tokens in, 0 when not known
    output: int  # most tokens one answer may have, 0 when not known
    capabilities: list[str]  # of SHOWN
    billing: Billing
    input_price: float | None  # US dollars per million tokens, when metered and known
    output_price: float | None
    state: ModelState
    reason: str | None  # why resting (the router's short reason) or failing (the error)
    seconds_left: float | None  # until a resting model may serve again, when known


class _Readiness:
    """The state of each route, asked of the router once per listing."""

    def __init__(self, gateway: Gateway) -> None:
        self._router = gateway.router
        self._failing = {f["model"]: f["error"] for f in gateway.status()["failing"]}
        self._known: dict[Target, State] = {}

    def of(self, targets: Iterable[Target], names: Iterable[str]) -> State:
        """Ready when any route is; else the first route's rest; ``names``: what callers ask for it by."""
        states = [self._route(target) for target in targets]
        ready = next((s for s in states if s[0] == "ready"), None)
        if ready is not None:
            failed = next((self._failing[name] for name in names if name in self._failing), None)
            return ("failing", failed, None) if failed is not None else ready
        nothing: State = ("unavailable", None, None)
        return next((s for s in states if s[0] == "resting"), nothing)

    def _route(self, target: Target) -> State:
        known = self._known.get(target)
        if known is None:
            known = self._known[target] = self._ask(target)
        return known

    def _ask(self, target: Target) -> State:
        ready, rejected = self._router.readiness(target)
        if ready:
            return ("ready", None, None)
        if not rejected:
            return ("unavailable", None, None)
        rest = rejected[0]
        return ("resting", rest.reason, None if rest.seconds is None else round(rest.seconds, 1))


def _billing(provider: ChatProvider | None) -> Billing:
    if provider is not None and provider.settings.local:
        return "local"
    if provider is not None and provider.id in SUBSCRIPTIONS:
        return "subscription"
    return "metered"


def _row(
    entry: ModelEntry,
    kind: ModelKind,
    facts: ModelFacts,
    serving: ChatProvider | None,
    leads_to: list[Target],
    state: State,
) -> ModelRow:
    """``serving``: the provider whose terms apply (an alias's or auto's first route's)."""
    billing = _billing(serving)
    cost = facts.cost if billing == "metered" else None
    own = kind == "model" and serving is not None
    return {
        "id": entry.id,
        "kind": kind,
        "provider": entry.provider,
        "provider_name": serving.settings.name if own and serving is not None else "Switchboard",
        "leads_to": [f"{t.provider}/{t.upstream_model}" for t in leads_to],
        "context": facts.context_length,
        "output": facts.output,
        "capabilities": [c for c in SHOWN if c in facts.capabilities],
        "billing": billing,
        "input_price": cost[0] if cost is not None else None,
        "output_price": cost[1] if cost is not None else None,
        "state": state[0],
        "reason": state[1],
        "seconds_left": state[2],
    }


async def model_rows(gateway: Gateway) -> list[ModelRow]:
    """Every model served, provider by provider in configuration order, then the aliases and ``auto``,
    then the glob and default rules in file order (what a name no model answers to is sent to)."""
    providers: Mapping[str, ChatProvider] = {p.id: p for p in gateway.providers}
    router = gateway.router
    readiness = _Readiness(gateway)
    rows: list[ModelRow] = []
    for entry in await gateway.models():
        if entry.provider == GATEWAY:
            targets = list(router.targets(entry.upstream_id))
            kind: ModelKind = "auto" if entry.upstream_id in AUTOS else "alias"
            first = providers.get(targets[0].provider) if targets else None
            state = readiness.of(targets, (entry.upstream_id,))
            rows.append(_row(entry, kind, gateway.facts(entry), first, targets, state))
            continue
        target = Target(entry.provider, entry.upstream_id)
        state = readiness.of((target,), (entry.id, entry.upstream_id))
        rows.append(_row(entry, "model", gateway.facts(entry), providers.get(entry.provider), [], state))
    for rule in router.rules.every:
        targets = list(router.chain(rule)) if rule.kind != "alias" else []
        if targets:  # like an alias, listed where it leads somewhere
            facts = router.capabilities.of(targets[0])
            state = readiness.of(targets, (rule.key,))
            rows.append(
                _row(ModelEntry(GATEWAY, rule.key), "rule", facts, providers.get(targets[0].provider), targets, state)
            )
    return rows
