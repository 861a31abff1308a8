"""An embeddings request: admitted against the caller's limits, routed to the providers that
declare an embeddings endpoint, and answered in OpenAI's shape (or as the client's route renders
it from that)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from gateway.auth.callers import LOCAL, Caller
from gateway.core.protocols import ProtocolId
from gateway.errors import GatewayError, InvalidRequest
from gateway.formats.common import jsonbody
from gateway.formats.openai import embeddings as openai_embeddings
from gateway.pipeline.accounting import Accountant, Tally, served
from gateway.pipeline.catalog import ModelCatalog
from gateway.pipeline.exchange import Exchange
from gateway.pipeline.routes import Routes
from gateway.providers.base import ChatProvider
from gateway.routing.failover import Routed
from gateway.routing.router import AUTOS, Candidate


class Embeddings:
    def __init__(
        self,
        providers: Mapping[str, ChatProvider],
        routes: Routes,
        exchange: Exchange,
        catalog: ModelCatalog,
        accountant: Accountant,
    ) -> None:
        self._providers = providers
        self._routes = routes
        self._exchange = exchange
        self._catalog = catalog
        self._accountant = accountant

    async def embeddings(
        self,
        call: openai_embeddings.EmbeddingCall,
        request_id: str,
        render: Callable[[bytes], bytes] | None = None,
        caller: Caller = LOCAL,
        protocol: ProtocolId = "openai-embeddings",
        tool: str = "",
    ) -> Routed[bytes]:
        """The upstream's answer in OpenAI's shape, or as ``render`` makes it from that (which
        raises ValueError when it cannot)."""
        tally = await self._accountant.admit(
            caller, protocol, call.model, request_id, lambda: len(jsonbody.encode(call.body)) // 4, tool
        )
        try:
            return await self._embed(call, request_id, render, tally)
        except GatewayError as err:
            self._accountant.failed(tally, err)
            raise

    async def _embed(
        self,
        call: openai_embeddings.EmbeddingCall,
        request_id: str,
        render: Callable[[bytes], bytes] | None,
        tally: Tally,
    ) -> Routed[bytes]:
        routes = self._routes
        targets = await (routes.embedders() if call.model in AUTOS else routes.targets(call.model, enforce=False))
        self._catalog.used(call.model)

        return await routes.routed(
            routes.plan(call.model, targets), request_id, partial(self._attempt, call, render, tally), tally
        )

    async def _attempt(
        self,
        call: openai_embeddings.EmbeddingCall,
        render: Callable[[bytes], bytes] | None,
        tally: Tally,
        candidate: Candidate,
        left: float,
    ) -> bytes:
        """The call on one route."""
        tally.attempts += 1
        provider = self._providers[candidate.target.provider]
        ask = provider.capabilities.embeddings
        if ask is None:
            raise InvalidRequest(
                f"The model '{call.model}' is served by provider {provider.id}, which has no embeddings endpoint.",
                param="model",
            )
        request = ask(call, candidate.target.upstream_model, candidate.cred.secret)
        exchange = self._exchange
        body = await exchange.ask(provider, request, left, candidate.cred)
        try:
            body, usage = openai_embeddings.finish_response(call, body)
            if render is not None:
                body = render(body)
        except ValueError:
            raise exchange.unusable(provider, body) from None
        self._accountant.first_byte(tally)
        self._accountant.count(tally, served(candidate), usage)
        return body
