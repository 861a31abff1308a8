"""One exchange with an upstream: send a request within what is left of its deadline, note the
quota windows the answer reports, and read the answer — whole, or up to a stream's first real
event, so that anything going wrong before then still fails the attempt with a proper status
(and failover may try another route).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial

from gateway.clock import Clock
from gateway.core.models import Target
from gateway.errors import UpstreamBadResponse, UpstreamStatus
from gateway.formats.common.jsonbody import MalformedEvent
from gateway.formats.interfaces import Relay
from gateway.pipeline.stream_reply import Ending, StreamReply, malformed
from gateway.providers.base import ChatProvider, Collector, Dialect
from gateway.providers.quota_tap import QuotaTap
from gateway.routing.pool import Credential, KeyPool
from gateway.routing.quota import QuotaBook
from gateway.transport import Timeouts, Transport, UpstreamRequest, UpstreamResponse

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_ERROR_BYTES = 1024 * 1024


class Exchange:
    def __init__(self, transport: Transport, clock: Clock, pools: Mapping[str, KeyPool], quotas: QuotaBook) -> None:
        self._transport = transport
        self._clock = clock
        self._pools = pools
        self._quotas = quotas

    async def send(
        self, provider: ChatProvider, request: UpstreamRequest, left: float, cred: Credential
    ) -> UpstreamResponse:
        """Send, within the ``left`` seconds of the request's deadline, note the quota windows
        the answer reports for ``cred``, and turn anything but a 2xx into the provider's error
        (the response is closed)."""
        t = request.timeouts
        if left < t.total - 1:  # (within a second of it, the provider's own bound will do)
            request = replace(request, timeouts=Timeouts(t.connect, t.read, left))
        response = await self._transport.send(request)
        if windows := provider.quota(response.headers, self._clock.time()):
            self._quotas.observe(cred.label, provider.id, windows)
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
                response.status, response.headers, body, self._clock.time(), self._pools[provider.id].secrets
            )
        finally:
            response.close()

    async def ask(self, provider: ChatProvider, request: UpstreamRequest, left: float, cred: Credential) -> bytes:
        """A request that is not chat: sent, and its whole answer read."""
        return await self.complete(provider, await self.send(provider, request, left, cred))

    async def complete(
        self, provider: ChatProvider, response: UpstreamResponse, dialect: Dialect | None = None
    ) -> bytes:
        """The whole answer (gathered from the stream, for an upstream that always streams);
        reading it to the end hands the connection back to the pool."""
        try:
            body = await response.read(MAX_RESPONSE_BYTES)
        except BaseException:
            response.close()
            raise
        content_type = response.headers.get("Content-Type", "").lower()
        if "json" in content_type:
            return body
        if isinstance(dialect, Collector) and dialect.stream_type in content_type:
            try:
                return dialect.collect(body)
            except ValueError:
                pass
        raise self.unusable(provider, body)

    def unusable(self, provider: ChatProvider, body: bytes) -> UpstreamStatus | UpstreamBadResponse:
        """A success status with an error object in the body, or with no usable body at all."""
        embedded = provider.embedded_error(body, self._clock.time(), self._pools[provider.id].secrets)
        return embedded or UpstreamBadResponse(
            f"provider {provider.id} returned unexpected content", provider=provider.id
        )

    async def open_stream(
        self,
        provider: ChatProvider,
        dialect: Dialect,
        response: UpstreamResponse,
        target: Target,
        relay: Relay,
        ending: Ending,
    ) -> StreamReply:
        """Read up to the first real event, so failures before it still get a proper status;
        ``ending``: the stream's answer, counted when the stream ends."""
        try:
            if dialect.stream_type not in response.headers.get("Content-Type", "").lower():
                body = await response.read(MAX_ERROR_BYTES)
                raise self.unusable(provider, body)
            first = b""
            while not relay.started:
                data = await response.read_chunk()
                if not data:
                    raise UpstreamBadResponse(
                        f"provider {provider.id} closed the stream before sending anything",
                        provider=provider.id,
                    )
                try:
                    first += relay.feed(data)
                except MalformedEvent:
                    raise malformed(provider.id) from None
            if relay.error_payload is not None:
                raise self.unusable(provider, relay.error_payload)
        except BaseException:
            response.close()
            raise
        return StreamReply(first, relay, response, target, ending)

    def tapped(self, provider: ChatProvider, cred: Credential, relay: Relay) -> Relay:
        """The relay, watched for quota events where the upstream sends them in its streams."""
        stream_quota = provider.capabilities.stream_quota
        if stream_quota is None:
            return relay
        return QuotaTap(relay, stream_quota, partial(self._quotas.observe, cred.label, provider.id))
