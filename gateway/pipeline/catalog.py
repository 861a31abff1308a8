"""The models the gateway offers: every provider's listed models, then its own names (exact-name
aliases, ``auto``) that lead somewhere — not the ``default`` rule nor a glob, which name no model;
what is known of each; and which ran lately (what Ollama calls loaded).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from gateway.clock import Clock
from gateway.core.models import GATEWAY, ModelEntry, ModelFacts, Target
from gateway.pipeline.exchange import Exchange
from gateway.pipeline.routes import ROUTE_WAIT, Routes, not_found
from gateway.providers.access import Key
from gateway.providers.base import ChatProvider
from gateway.routing.context_windows import ContextWindows
from gateway.routing.model_index import ModelIndex
from gateway.routing.model_sync import ModelSync
from gateway.routing.router import AUTOS, Candidate, Router
from gateway.transport import UpstreamRequest

KEEP_ALIVE = 300.0  # seconds a model counts as running after use, as Ollama's default keep_alive


class ModelCatalog:
    def __init__(
        self,
        providers: Mapping[str, ChatProvider],
        index: ModelIndex,
        sync: ModelSync,
        router: Router,
        routes: Routes,
        exchange: Exchange,
        windows: ContextWindows,
        clock: Clock,
    ) -> None:
        self._providers = providers
        self._index = index
        self._sync = sync
        self._router = router
        self._routes = routes
        self._exchange = exchange
        self._windows = windows
        self._clock = clock
        self._last_used: dict[str, float] = {}  # model name asked for -> when it last served (monotonic)

    async def models(self) -> list[ModelEntry]:
        await self._sync.wait_ready(ROUTE_WAIT)
        router = self._router
        own = [ModelEntry(GATEWAY, name) for name in (*router.names, *AUTOS) if router.targets(name)]
        return self._index.entries() + own

    async def model(self, model_id: str) -> ModelEntry:
        await self._sync.wait_ready(ROUTE_WAIT)
        router = self._router
        entry = self._index.get(model_id)
        if entry is None and (model_id in AUTOS or model_id in router.names) and router.targets(model_id):
            entry = ModelEntry(GATEWAY, model_id)
        if entry is None:
            raise not_found(model_id)
        return entry

    def facts(self, entry: ModelEntry) -> ModelFacts:
        """What is known of a listed model (for an alias or ``auto``: of its first route)."""
        targets = self._router.targets(entry.upstream_id) if entry.provider == GATEWAY else ()
        target = targets[0] if targets else Target(entry.provider, entry.upstream_id)
        return self._router.capabilities.of(target)

    async def model_facts(self, name: str) -> tuple[ModelEntry, ModelFacts]:
        """A model as the gateway lists it, with what is known of it."""
        target = (await self._routes.targets(name))[0]
        entry = self._index.get(f"{target.provider}/{target.upstream_model}") or ModelEntry(
            target.provider, target.upstream_model
        )
        return entry, self._router.capabilities.of(target)

    async def upstream_show(self, name: str, request_id: str) -> bytes | None:
        """The upstream's own document for a model (Ollama's /api/show), where its provider
        declares one; None for the others (their facts come from ``model_facts``)."""
        target = (await self._routes.targets(name))[0]
        provider = self._providers[target.provider]
        show = provider.capabilities.show
        if show is None:
            return None
        plan = self._routes.plan(name, [target])
        return (await self._routes.routed(plan, request_id, partial(self._show, provider, show))).value

    async def _show(
        self, provider: ChatProvider, show: Callable[[str, Key], UpstreamRequest], candidate: Candidate, left: float
    ) -> bytes:
        """The model's document from one route, its context window noted."""
        request = show(candidate.target.upstream_model, candidate.cred.secret)
        document = await self._exchange.ask(provider, request, left, candidate.cred)
        self._windows.shown(candidate.target, document)
        return document

    def used(self, name: str) -> None:
        """A request for ``name`` is being served now."""
        self._last_used[name] = self._clock.monotonic()

    def running(self) -> list[tuple[ModelEntry, float]]:
        """Models that served a request within the last ``KEEP_ALIVE`` seconds, with the wall
        time their keep-alive ends: what Ollama calls loaded."""
        now, wall = self._clock.monotonic(), self._clock.time()
        latest: dict[str, tuple[ModelEntry, float]] = {}  # one model may be asked for by several names
        for name, used in list(self._last_used.items()):
            target = self._index.resolve(name)
            if now - used > KEEP_ALIVE or target is None:
                del self._last_used[name]
                continue
            entry = self._index.get(f"{target.provider}/{target.upstream_model}")
            if entry is not None and (entry.id not in latest or latest[entry.id][1] < used):
                latest[entry.id] = (entry, used)
        return [(entry, wall + KEEP_ALIVE - (now - used)) for entry, used in latest.values()]
