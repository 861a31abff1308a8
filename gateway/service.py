"""The gateway's request pipeline behind the HTTP surface: route, attempt, respond, count.

The API layer hands in a checked call and gets back the bytes of a complete JSON answer or a
``StreamReply`` (an async iterator of bytes already in the client's protocol). Anything that goes
wrong before the first byte is raised as a ``GatewayError`` so the API can answer with a proper
status; a stream only starts once the upstream has produced its first real event. Every answer's
usage (reported by the upstream, even when the client did not ask for it) goes into ``totals``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gateway.clock import Clock
from gateway.core.models import ModelEntry, Target
from gateway.core.usage import UsageTotals
from gateway.errors import ModelNotFound, UpstreamBadResponse, UpstreamStatus
from gateway.formats import openai_chat, openai_embeddings
from gateway.providers.openai_compatible import OpenAICompatible
from gateway.routing.keys import KeyRing
from gateway.routing.model_index import ModelIndex
from gateway.routing.model_sync import ModelSync
from gateway.transport import Transport, UpstreamRequest, UpstreamResponse

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_ERROR_BYTES = 1024 * 1024
ROUTE_WAIT = 5.0  # how long an unknown bare name may wait for model lists still loading


class StreamReply:
    """A relayed stream: iterate for bytes to write; ``close`` when done or abandoned.

    An iterator class rather than a generator, so a client hanging up leaves nothing suspended.
    Raises ``UpstreamError`` mid-stream when the upstream fails or stops before ``[DONE]``.
    """

    __slots__ = ("_first", "_relay", "_response", "_totals", "target")

    def __init__(
        self,
        first: bytes,
        relay: openai_chat.StreamRelay,
        response: UpstreamResponse,
        target: Target,
        totals: UsageTotals,
    ) -> None:
        self._first: bytes | None = first
        self._relay = relay
        self._response = response
        self._totals = totals
        self.target = target

    def __aiter__(self) -> StreamReply:
        return self

    async def __anext__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        relay = self._relay
        while True:
            data = await self._response.read_chunk()
            if not data:
                if relay.done or relay.failed:
                    raise StopAsyncIteration
                raise UpstreamBadResponse(
                    f"provider {self.target.provider} ended the stream before it was complete",
                    provider=self.target.provider,
                )
            out = relay.feed(data)
            if out:
                return out

    def close(self) -> None:
        """Count the usage; release the upstream connection if the stream finished, abort it
        otherwise."""
        self._totals.add(self._relay.usage)
        if self._relay.done:
            self._response.release()
        else:
            self._response.close()


class Gateway:
    def __init__(
        self,
        providers: Sequence[OpenAICompatible],
        transport: Transport,
        clock: Clock,
        index: ModelIndex,
        sync: ModelSync,
        keys: Mapping[str, KeyRing],
    ) -> None:
        self._providers = {p.id: p for p in providers}
        self._transport = transport
        self._clock = clock
        self._index = index
        self.sync = sync
        self._keys = keys
        self.totals = UsageTotals()

    @property
    def providers(self) -> list[OpenAICompatible]:
        return list(self._providers.values())

    # --- models -----------------------------------------------------------------------------

    async def models(self) -> list[ModelEntry]:
        await self.sync.wait_ready(ROUTE_WAIT)
        return self._index.entries()

    async def model(self, model_id: str) -> ModelEntry:
        await self.sync.wait_ready(ROUTE_WAIT)
        entry = self._index.get(model_id)
        if entry is None:
            raise _not_found(model_id)
        return entry

    async def _route(self, name: str) -> Target:
        target = self._index.resolve(name)
        if target is None and self.sync.incomplete:
            await self.sync.refresh_missing(ROUTE_WAIT)
            target = self._index.resolve(name)
        if target is None:
            raise _not_found(name)
        return target

    # --- attempts ---------------------------------------------------------------------------

    async def _send(self, provider: OpenAICompatible, request: UpstreamRequest) -> UpstreamResponse:
        """Send, and turn anything but a 2xx into the provider's error (the response is closed)."""
        response = await self._transport.send(request)
        if 200 <= response.status < 300:
            return response
        try:
            if 300 <= response.status < 400:
                raise UpstreamBadResponse(
                    f"provider {provider.id} answered with a redirect (HTTP {response.status}); "
                    "redirects are not followed with credentials",
                    provider=provider.id,
                )
            body = await response.read(MAX_ERROR_BYTES)
            raise provider.error(
                response.status, response.headers, body, self._clock.time(), self._keys[provider.id].keys
            )
        finally:
            response.close()

    async def _complete(self, provider: OpenAICompatible, response: UpstreamResponse) -> bytes:
        """The whole answer; reading it to the end hands the connection back to the pool."""
        try:
            body = await response.read(MAX_RESPONSE_BYTES)
        except BaseException:
            response.close()
            raise
        if "json" not in response.headers.get("Content-Type", "").lower():
            raise self._unusable(provider, body)
        return body

    def _unusable(self, provider: OpenAICompatible, body: bytes) -> UpstreamStatus | UpstreamBadResponse:
        """A success status with an error object in the body, or with no usable body at all."""
        embedded = provider.embedded_error(body, self._clock.time(), self._keys[provider.id].keys)
        return embedded or UpstreamBadResponse(
            f"provider {provider.id} returned unexpected content", provider=provider.id
        )

    # --- chat -------------------------------------------------------------------------------

    async def chat(self, call: openai_chat.ChatCall, request_id: str) -> bytes | StreamReply:
        target = await self._route(call.model)
        provider = self._providers[target.provider]
        key = self._keys[provider.id].pick()
        request = provider.chat_request(call, target.upstream_model, key, request_id)
        response = await self._send(provider, request)
        if call.stream:
            return await self._open_stream(call, provider, response, target)
        body = await self._complete(provider, response)
        try:
            usage = openai_chat.completion_usage(body)
        except ValueError:
            raise self._unusable(provider, body) from None
        if b'"choices"' not in body:
            raise self._unusable(provider, body)
        self.totals.add(usage)
        return body

    async def _open_stream(
        self,
        call: openai_chat.ChatCall,
        provider: OpenAICompatible,
        response: UpstreamResponse,
        target: Target,
    ) -> StreamReply:
        """Read up to the first real event, so failures before it still get a proper status."""
        try:
            if "text/event-stream" not in response.headers.get("Content-Type", "").lower():
                body = await response.read(MAX_ERROR_BYTES)
                raise self._unusable(provider, body)
            injected = provider.settings.stream_usage and not call.wants_usage
            relay = openai_chat.StreamRelay(drop_usage_chunk=injected)
            first = b""
            while not relay.started:
                data = await response.read_chunk()
                if not data:
                    raise UpstreamBadResponse(
                        f"provider {provider.id} closed the stream before sending anything",
                        provider=provider.id,
                    )
                first += relay.feed(data)
            if relay.error_payload is not None:
                raise self._unusable(provider, relay.error_payload)
        except BaseException:
            response.close()
            raise
        return StreamReply(first, relay, response, target, self.totals)

    # --- embeddings -------------------------------------------------------------------------

    async def embeddings(self, call: openai_embeddings.EmbeddingCall, request_id: str) -> bytes:
        target = await self._route(call.model)
        provider = self._providers[target.provider]
        key = self._keys[provider.id].pick()
        request = provider.embeddings_request(call, target.upstream_model, key, request_id)
        response = await self._send(provider, request)
        body = await self._complete(provider, response)
        try:
            body, usage = openai_embeddings.finish_response(call, body)
        except ValueError:
            raise self._unusable(provider, body) from None
        self.totals.add(usage)
        return body


def _not_found(name: str) -> ModelNotFound:
    return ModelNotFound(
        f"The model '{name}' does not exist or is not served by any configured provider. "
        "GET /v1/models lists the models available.",
        param="model",
    )
