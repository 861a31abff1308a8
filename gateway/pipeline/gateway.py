"""The gateway's request pipeline behind the HTTP surface, as one facade: route, attempt, respond,
count.

The API layer hands in a checked call in the client's protocol and gets back the bytes of a
complete answer or a ``Reply`` (an async iterator of bytes in the client's protocol). Anything
that goes wrong before the first byte is raised as a ``GatewayError`` so the API can answer with a
proper status. The work is done by the pipeline's parts, each with one job:

- ``routes``: the requested name's targets, the plan of candidates, trying them in turn;
- ``chat`` (with ``call``, the request decoded once, and ``upstream``, one route's exchange in
  the passthrough or translated): chat requests, and Anthropic's count_tokens;
- ``embeddings``: embeddings requests;
- ``exchange``: sending upstream and reading the answer;
- ``catalog``: the models offered, what is known of them, which ran lately;
- ``status``: the pipeline's part of the status document;
- ``accounting``: every answer's outcome, to limits, totals, metrics and the ledger.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gateway.auth.callers import LOCAL, Caller
from gateway.clock import Clock
from gateway.core.models import ModelEntry, ModelFacts
from gateway.core.protocols import ProtocolId
from gateway.core.timing import Timing
from gateway.core.usage import UsageTotals
from gateway.formats.anthropic.checks import MessagesCall
from gateway.formats.common.effort_suffix import unsuffixed
from gateway.formats.interfaces import ClientCall
from gateway.formats.openai.embeddings import EmbeddingCall
from gateway.pipeline.accounting import Accountant
from gateway.pipeline.call import Call
from gateway.pipeline.catalog import KEEP_ALIVE, ModelCatalog
from gateway.pipeline.chat import Chat
from gateway.pipeline.embeddings import Embeddings
from gateway.pipeline.exchange import Exchange
from gateway.pipeline.routes import Routes
from gateway.pipeline.status import Failing, PipelineStatus, provider_status, usage_counted
from gateway.pipeline.stream_reply import Reply
from gateway.pipeline.upstream import Upstream
from gateway.providers.access import TokenSource
from gateway.providers.base import ChatProvider
from gateway.routing.context_windows import ContextWindows
from gateway.routing.failover import Routed
from gateway.routing.model_index import ModelIndex
from gateway.routing.model_sync import ModelSync
from gateway.routing.pool import KeyPool
from gateway.routing.preference import Prefer
from gateway.routing.quota import QuotaBook
from gateway.routing.receipt import receipt
from gateway.routing.response_cache import ResponseCache
from gateway.routing.router import Router
from gateway.routing.spoken import Spoken
from gateway.transport import Transport


class Gateway:
    def __init__(
        self,
        providers: Sequence[ChatProvider],
        transport: Transport,
        clock: Clock,
        index: ModelIndex,
        sync: ModelSync,
        pools: Mapping[str, KeyPool],
        router: Router,
        deadline: float,
        cache: ResponseCache,
        accountant: Accountant,
        quotas: QuotaBook,
        spoken: Spoken,
    ) -> None:
        """``deadline``: seconds a request may take over all its attempts."""
        self._providers = {p.id: p for p in providers}
        self._clock = clock
        self.transport = transport  # the door to upstreams: the doctor asks through it too
        self._index = index
        self._pools = pools
        self.sync = sync
        self.router = router
        self.cache = cache
        self.accounting = accountant
        self.quotas = quotas
        self.spoken = spoken
        self._failing = Failing(clock)
        windows = ContextWindows(clock.monotonic, KEEP_ALIVE)
        exchange = Exchange(transport, clock, pools, quotas)
        self._routes = Routes(router, sync, clock, deadline, accountant, self._failing)
        self.catalog = ModelCatalog(self._providers, index, sync, router, self._routes, exchange, windows, clock)
        upstream = Upstream(exchange, accountant, self.timing)
        self._chat = Chat(
            self._providers,
            self._routes,
            exchange,
            upstream,
            self.catalog,
            router.capabilities,
            cache,
            accountant,
            spoken,
            windows,
            clock,
        )
        self._embeddings = Embeddings(self._providers, self._routes, exchange, self.catalog, accountant)

    @property
    def totals(self) -> UsageTotals:
        return self.accounting.totals

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def providers(self) -> list[ChatProvider]:
        return list(self._providers.values())

    def timing(self) -> Timing:
        """Now, for an answer that reports when it began and how long it took."""
        return Timing(int(self._clock.time()), self._clock.monotonic(), self._clock.monotonic)

    # --- requests ---------------------------------------------------------------------------

    async def chat(
        self,
        call: ClientCall,
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
        return await self._chat.chat(call, request_id, session, caller, prefer, tool)

    async def count_tokens(self, call: MessagesCall, request_id: str) -> bytes:
        return await self._chat.count_tokens(call, request_id)

    async def embeddings(
        self,
        call: EmbeddingCall,
        request_id: str,
        render: Callable[[bytes], bytes] | None = None,
        caller: Caller = LOCAL,
        protocol: ProtocolId = "openai-embeddings",
        tool: str = "",
    ) -> Routed[bytes]:
        return await self._embeddings.embeddings(call, request_id, render, caller, protocol, tool)

    async def decide(
        self, call: ClientCall, session: str | None = None, prefer: Prefer | None = None
    ) -> dict[str, Any]:
        """The dry run: the plan a request would get now, as a receipt. Nothing is sent."""
        routes = self._routes
        call = unsuffixed(call)
        slot = routes.slot(call) if isinstance(call, MessagesCall) else None  # as chat routes Claude Code's
        name = slot or call.model
        plan = routes.plan(name, await routes.targets(name), Call(call, session, prefer=prefer))
        return receipt(plan, call.model, self.router.rule(name))

    async def counted(self) -> None:
        """Wait for the counts still being made, so the totals and the ledger are complete."""
        await self.accounting.counted()

    # --- models -----------------------------------------------------------------------------

    async def models(self) -> list[ModelEntry]:
        return await self.catalog.models()

    async def model(self, model_id: str) -> ModelEntry:
        return await self.catalog.model(model_id)

    def facts(self, entry: ModelEntry) -> ModelFacts:
        return self.catalog.facts(entry)

    async def model_facts(self, name: str) -> tuple[ModelEntry, ModelFacts]:
        return await self.catalog.model_facts(name)

    async def upstream_show(self, name: str, request_id: str) -> bytes | None:
        return await self.catalog.upstream_show(name, request_id)

    def running(self) -> list[tuple[ModelEntry, float]]:
        return self.catalog.running()

    # --- administration -----------------------------------------------------------------------

    def status(self) -> PipelineStatus:
        """Every provider and key (masked) with its health; the aliases; the models failing;
        the cache; the usage counted so far. Nothing secret."""
        return {
            "providers": provider_status(
                self._providers.values(),
                self._pools,
                self.router.health,
                Counter(e.provider for e in self._index.entries()),
                self.sync.last_reason,
            ),
            "aliases": {name: list(chain) for name, chain in self.router.aliases.items()},
            "failing": self._failing.listing(),
            "cache": self.cache.stats(),
            "usage": usage_counted(self.totals),
        }

    def serve_accounts(self, provider: str, accounts: Sequence[TokenSource]) -> None:
        """The signed-in accounts a subscription provider serves from now on; its model list is
        asked for again with them."""
        self._pools[provider].set_accounts(provider, accounts)
        self.sync.ask_again(provider)

    def forgive(self, provider: str) -> None:
        """Let a provider serve again at once, whatever rests its keys were given (its Test
        answered)."""
        self.router.health.forgive(provider, (c.label for c in self._pools[provider].credentials))
