"""A chat request, from the client's checked call to its answer: admitted against the caller's
limits, answered from the response cache when it may be, else routed; on each route it goes out
in the protocol the provider speaks for it (``upstream``), and the answer is kept in the cache.

A provider's server that turns out to lack a protocol's endpoint is sent the same request at once
in the next protocol it speaks (``gateway.routing.spoken``); a provider whose native chat takes a
context window is asked for one that holds the request (``gateway.routing.context_windows``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial

from gateway.auth.callers import LOCAL, Caller
from gateway.clock import Clock
from gateway.core.models import Target
from gateway.core.usage import Usage
from gateway.errors import GatewayError
from gateway.formats.anthropic.checks import MessagesCall
from gateway.formats.common import jsonbody
from gateway.formats.common.effort_suffix import unsuffixed
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.common.output_limit import output_limit, with_output_limit
from gateway.formats.interfaces import ClientCall
from gateway.formats.ollama.window import asked_window, configured_window, needed
from gateway.pipeline import tokens
from gateway.pipeline.accounting import CACHE, Accountant, Tally
from gateway.pipeline.call import Call, estimate
from gateway.pipeline.catalog import ModelCatalog
from gateway.pipeline.exchange import Exchange
from gateway.pipeline.routes import Routes
from gateway.pipeline.stream_reply import CachedStream, Reply, StreamReply
from gateway.pipeline.upstream import Upstream
from gateway.providers.access import Key
from gateway.providers.base import ChatProvider
from gateway.routing.capabilities import Capabilities
from gateway.routing.context_windows import ContextWindows
from gateway.routing.failover import Routed
from gateway.routing.preference import Prefer
from gateway.routing.response_cache import ResponseCache
from gateway.routing.router import Candidate
from gateway.routing.spoken import Spoken
from gateway.transport import UpstreamRequest

log = logging.getLogger("gateway.pipeline")

REASONING_ALLOWANCE = 4096  # output tokens added for a model that thinks out of its answer's budget


class Chat:
    def __init__(
        self,
        providers: Mapping[str, ChatProvider],
        routes: Routes,
        exchange: Exchange,
        upstream: Upstream,
        catalog: ModelCatalog,
        facts: Capabilities,
        cache: ResponseCache,
        accountant: Accountant,
        spoken: Spoken,
        windows: ContextWindows,
        clock: Clock,
    ) -> None:
        self._providers = providers
        self._routes = routes
        self._exchange = exchange
        self._upstream = upstream
        self._catalog = catalog
        self._facts = facts
        self._cache = cache
        self._accountant = accountant
        self._spoken = spoken
        self._windows = windows
        self._clock = clock

    async def chat(
        self,
        client: ClientCall,
        request_id: str,
        session: str | None = None,
        caller: Caller = LOCAL,
        prefer: Prefer | None = None,
        tool: str = "",
    ) -> Routed[bytes | Reply]:
        """``session``: the client's session id, when it sent one (conversation affinity);
        ``caller``: who is asking (their limits apply; the response cache never shares answers
        between callers); ``prefer``: the request's header (fast or local routes first);
        ``tool``: the client tool that sent it (for the ledger)."""
        accountant = self._accountant
        tally = await accountant.admit(
            caller, client.protocol, client.model, request_id, lambda: estimate(client), tool
        )
        try:
            source = client.source
            cache_key = self._cache.key(
                caller.id, client.protocol, client.body, source.canonical if source is not None else None
            )
            if cache_key is not None and (hit := self._cache.get(cache_key)) is not None:
                accountant.first_byte(tally)
                accountant.count(tally, CACHE, Usage(0, 0))
                value: bytes | Reply = CachedStream(hit.chunks) if hit.stream else hit.chunks[0]
                return Routed(value, None, 0, hit.route)
            client = unsuffixed(client)  # "gpt-5(high)" routes as gpt-5, asking for high effort
            name = caller.enforce_model or client.model  # a key's enforced model (the ledger keeps the asked one)
            if caller.enforce_model is None and isinstance(client, MessagesCall):
                name = self._routes.slot(client) or name  # "claude-code:subagent" and the other slots
            targets = await self._routes.targets(name)
            self._catalog.used(name)
            call = Call(client, session, caller.id, prefer)
            plan = self._routes.plan(name, targets, call)
            routed: Routed[bytes | Reply] = await self._routes.routed(
                plan, request_id, partial(self._attempt, call, tally), tally
            )
            if tally.dropped:
                routed = replace(routed, dropped=tally.dropped)
        except GatewayError as err:
            accountant.failed(tally, err)
            raise
        if cache_key is not None:
            self._keep(cache_key, routed)
        return routed

    def _keep(self, key: str, routed: Routed[bytes | Reply]) -> None:
        """Put an answer in the response cache: a whole one now, a stream once it completes."""
        route = routed.route
        value = routed.value
        cache = self._cache
        if isinstance(value, bytes):
            cache.put(key, (value,), False, route)
        elif isinstance(value, StreamReply):
            value.copy_to(cache.largest, partial(cache.put, key, stream=True, route=route))

    async def _attempt(self, call: Call, tally: Tally, candidate: Candidate, left: float) -> bytes | StreamReply:
        """The call on one route, in the protocol the provider speaks for it: the passthrough in
        the client's own, else translated. A server that turns out to lack that protocol's
        endpoint is sent it again at once in the next protocol it speaks, within the attempt."""
        tally.attempts += 1
        target = candidate.target
        provider = self._providers[target.provider]
        limit = self._fitted(call.client, target)
        client = call.client if limit is None else with_output_limit(call.client, limit)
        fit = self._facts.fit(target)  # an effort or thinking budget as the model takes it, said when changed
        client, tally.dropped = fit.call(client)
        if tally.dropped:
            log.info("%s: for %s, %s", tally.request_id, target.upstream_model, ", ".join(tally.dropped))
        deadline = self._clock.monotonic() + left
        upstream = self._upstream
        while True:
            dialect, own = self._spoken.route(provider, client.protocol, target.upstream_model)
            left = deadline - self._clock.monotonic()
            windowed = provider.capabilities.context_window
            if windowed is not None and dialect.protocol == "ollama":
                dialect = windowed(await self._window(call, client, provider, candidate, left))
            try:
                if own:
                    return await upstream.passthrough(call, client, provider, dialect, candidate, left, tally)
                return await upstream.translated(call, client, limit, provider, dialect, candidate, left, tally, fit)
            except GatewayError as err:
                if not self._spoken.learn(provider, dialect, err):
                    raise

    def _fitted(self, client: ClientCall, target: Target) -> int | None:
        """The output limit fitted to the model, when it differs from the one asked for:
        clamped to what one answer may have, with room added for models that think out of the
        same budget."""
        facts = self._facts.of(target)
        if not facts.output and not facts.reasons:
            return None
        asked = output_limit(client)
        if asked is None:
            return None
        limit = asked + REASONING_ALLOWANCE if facts.reasons else asked
        if facts.output:
            limit = min(limit, facts.output)
        return None if limit == asked else limit

    async def _window(
        self, call: Call, client: ClientCall, provider: ChatProvider, candidate: Candidate, left: float
    ) -> int | None:
        """The context window to ask for (None: the model's own): the one the client set, or the
        config sets for the model, else one that holds the request, as far as the model's own
        document (where the provider shows one) says."""
        model = candidate.target.upstream_model
        fixed = asked_window(client) or configured_window(provider.settings.num_ctx, model)
        if fixed is not None:
            return fixed
        show = provider.capabilities.show
        if show is None:
            return None
        try:
            need = needed(await call.prompt_tokens(), output_limit(client))
        except (BodyError, OSError, ValueError):
            return None  # not countable here (a passthrough body the canonical form cannot hold): as it is
        return await self._windows.size(candidate.target, need, partial(self._show, provider, show, candidate, left))

    async def _show(
        self, provider: ChatProvider, show: Callable[[str, Key], UpstreamRequest], candidate: Candidate, left: float
    ) -> bytes:
        """The model's own document, from the route the call is on."""
        request = show(candidate.target.upstream_model, candidate.cred.secret)
        return await self._exchange.ask(provider, request, left, candidate.cred)

    async def count_tokens(self, client: MessagesCall, request_id: str) -> bytes:
        """Anthropic's count_tokens: asked of the first route's upstream where it counts them,
        counted here for any other."""
        routes = self._routes
        targets = await routes.targets(client.model)
        provider = self._providers[targets[0].provider]
        counts = provider.capabilities.count_tokens
        if counts is None:
            return jsonbody.encode({"input_tokens": await tokens.count_async(Call(client).checked())})
        plan = routes.plan(client.model, targets[:1])
        return (await routes.routed(plan, request_id, partial(self._count, client, provider, counts))).value

    async def _count(
        self,
        client: MessagesCall,
        provider: ChatProvider,
        counts: Callable[[MessagesCall, str, Key], UpstreamRequest],
        candidate: Candidate,
        left: float,
    ) -> bytes:
        """Anthropic's count_tokens asked of one route's upstream."""
        request = counts(client, candidate.target.upstream_model, candidate.cred.secret)
        return await self._exchange.ask(provider, request, left, candidate.cred)
