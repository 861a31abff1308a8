"""What every HTTP upstream adapter shares: its headers, its model list, its error answers.

A provider speaks one or more wire protocols, each through a ``Dialect`` (an endpoint and its
codec). A client call in a protocol the provider speaks takes the passthrough path
(``passthrough_request`` and ``passthrough_relay``); any other goes through the canonical form to
the provider's ``primary`` dialect (``translated_request``, ``decode_response``,
``stream_decoder``). Only the provider's own credential and a short allow-list of headers go
upstream (SECURITY.md S27).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.models import ModelEntry
from gateway.core.usage import Usage
from gateway.errors import UpstreamStatus
from gateway.formats.interfaces import Relay, StreamDecoder
from gateway.formats.openai.models import parse_model_list
from gateway.providers.access import Access, Key
from gateway.providers.quota import QuotaWindow, ratelimit_headers
from gateway.providers.settings import ProviderSettings
from gateway.providers.upstream_errors import embedded_error, upstream_error
from gateway.transport import UpstreamRequest
from gateway.version import __version__

USER_AGENT = f"Switchboard/{__version__}"
JSON = "application/json"
SSE = "text/event-stream"
NDJSON = "application/x-ndjson"


class BaseProvider:
    models_path: str = "/models"
    user_agent: str = USER_AGENT
    quota_in_streams: bool = False  # its streams carry quota events (``stream_quota``)
    dialects: dict[str, Dialect]  # set by each adapter: the protocols it speaks
    primary: Dialect  # where translated requests go

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.id = settings.id
        self._base = settings.base_url
        # The headers every request carries, per Accept value, built once.
        self._headers_for = {
            accept: (
                ("Content-Type", JSON),
                ("Accept", accept),
                ("User-Agent", self.user_agent),
                *self._fixed_headers(),
            )
            for accept in (JSON, SSE, NDJSON)
        }

    def _fixed_headers(self) -> tuple[tuple[str, str], ...]:
        return self.settings.headers

    def _auth(self, key: str) -> tuple[tuple[str, str], ...]:
        style = self.settings.auth
        if style == "none":
            return ()
        if style == "api-key":
            return (("api-key", key),)
        if style == "x-api-key":
            return (("x-api-key", key),)
        return (("Authorization", f"Bearer {key}"),)

    def _headers(self, key: Key, accept: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        # No request id goes upstream: servers read the header as their own (llama-cpp-python's
        # answers 400 to any X-Request-Id that is not a UUID). Ours stays in our log and ledger.
        headers = (*self._headers_for[accept], *extra)
        if isinstance(key, Access):
            return (*headers, *key.headers, *self._auth(key.secret))
        return (*headers, *self._auth(key)) if key else headers

    def _base_for(self, key: Key) -> str:
        return key.base_url if isinstance(key, Access) and key.base_url else self._base

    def post(
        self,
        path: str,
        body: bytes,
        key: Key,
        request_id: str,
        *,
        stream: bool,
        extra: tuple[tuple[str, str], ...] = (),
        accept: str = SSE,
    ) -> UpstreamRequest:
        return UpstreamRequest(
            provider=self.id,
            method="POST",
            url=f"{self._base_for(key)}{path}",
            headers=self._headers(key, accept if stream else JSON, *extra),
            body=body,
            timeouts=self.settings.timeouts,
        )

    def models_request(self, key: Key, request_id: str) -> UpstreamRequest:
        headers = tuple(h for h in self._headers(key, JSON) if h[0] != "Content-Type")
        return UpstreamRequest(
            provider=self.id,
            method="GET",
            url=self.settings.models_url or f"{self._base_for(key)}{self.models_path}",
            headers=headers,
            timeouts=self.settings.timeouts,
        )

    def route(self, protocol: str, upstream_model: str) -> tuple[Dialect, bool]:
        """The dialect a call in ``protocol`` goes out in for this model, and whether that is
        the client's own (the passthrough)."""
        own: Dialect | None = self.dialects.get(protocol)
        return (own, True) if own is not None else (self.primary, False)

    def parse_models(self, body: bytes) -> list[ModelEntry]:
        return parse_model_list(body, self.id, self.settings.model_prefix)

    def quota(self, headers: Mapping[str, str], now: float) -> tuple[QuotaWindow, ...]:
        """The quota windows an answer's headers report (an API key's rate limits by default)."""
        return ratelimit_headers(headers, now)

    def stream_quota(self, payload: dict[str, Any]) -> tuple[QuotaWindow, ...]:
        """Quota windows in one stream event (read only where ``quota_in_streams``)."""
        return ()

    def error(
        self, status: int, headers: Mapping[str, str], body: bytes, now: float, keys: tuple[str, ...]
    ) -> UpstreamStatus:
        """The upstream's error answer in the gateway's terms, with credentials masked."""
        return upstream_error(self.id, status, headers, body, now, keys)

    def embedded_error(self, body: bytes, now: float, keys: tuple[str, ...]) -> UpstreamStatus | None:
        return embedded_error(self.id, body, now, keys)


@runtime_checkable
class Collector(Protocol):
    """A dialect whose upstream always streams: a whole answer is gathered from the stream."""

    def collect(self, stream: bytes) -> bytes:
        """The stream's events as the protocol's whole answer; raises ValueError if they are
        not one."""
        ...


class Poster(Protocol):
    """What a dialect needs of its provider: requests built with the provider's address,
    credential and headers."""

    id: str
    settings: ProviderSettings

    def post(
        self,
        path: str,
        body: bytes,
        key: Key,
        request_id: str,
        *,
        stream: bool,
        extra: tuple[tuple[str, str], ...] = (),
        accept: str = SSE,
    ) -> UpstreamRequest: ...


class Dialect(Protocol):
    """One wire protocol as a provider speaks it: where to send, how to read the answer."""

    protocol: ClassVar[str]
    stream_type: ClassVar[str]  # the media type of its streams

    def passthrough_request(self, call: Any, upstream_model: str, key: Key, request_id: str) -> UpstreamRequest: ...

    def passthrough_relay(self, call: Any) -> Relay: ...

    def passthrough_usage(self, body: bytes) -> Usage | None: ...

    def translated_request(
        self, request: ChatRequest, upstream_model: str, key: Key, request_id: str
    ) -> UpstreamRequest: ...

    def decode_response(self, body: bytes) -> ChatResponse: ...

    def stream_decoder(self) -> StreamDecoder: ...


class ChatProvider(Protocol):
    """What the service needs of an upstream adapter for chat."""

    id: str
    settings: ProviderSettings
    quota_in_streams: bool
    dialects: dict[str, Dialect]  # by protocol
    primary: Dialect  # where translated requests go

    def models_request(self, key: Key, request_id: str) -> UpstreamRequest: ...

    def route(self, protocol: str, upstream_model: str) -> tuple[Dialect, bool]: ...

    def quota(self, headers: Mapping[str, str], now: float) -> tuple[QuotaWindow, ...]: ...

    def stream_quota(self, payload: dict[str, Any]) -> tuple[QuotaWindow, ...]: ...

    def parse_models(self, body: bytes) -> list[ModelEntry]: ...

    def error(
        self, status: int, headers: Mapping[str, str], body: bytes, now: float, keys: tuple[str, ...]
    ) -> UpstreamStatus: ...

    def embedded_error(self, body: bytes, now: float, keys: tuple[str, ...]) -> UpstreamStatus | None: ...
