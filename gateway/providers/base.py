"""What every HTTP upstream adapter shares: its headers, its model list, its error answers.

A provider speaks one or more wire protocols, each through a ``Dialect`` (an endpoint and its
codec). A client call in a protocol the provider speaks takes the passthrough path
(``passthrough_request`` and ``passthrough_relay``); any other goes through the canonical form to
the provider's ``primary`` dialect (``translated_request``, ``decode_response``,
``stream_decoder``). Only the provider's own credential and a short allow-list of headers go
upstream (SECURITY.md S27).

What an adapter can do besides chat it declares in its ``capabilities``; the pipeline reads them
and never asks which adapter it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.models import ModelEntry
from gateway.core.protocols import ProtocolId, is_protocol
from gateway.core.usage import Usage
from gateway.errors import UpstreamStatus
from gateway.formats.anthropic.checks import MessagesCall
from gateway.formats.interfaces import Relay, StreamDecoder
from gateway.formats.openai.embeddings import EmbeddingCall
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


def chosen_protocols(
    settings: ProviderSettings, known: Mapping[ProtocolId, object], default: tuple[ProtocolId, ...]
) -> tuple[ProtocolId, ...]:
    """The protocols a provider's settings name that its adapter speaks, first preferred (the
    settings were checked against its kind); none named: the adapter's ``default``."""
    return tuple(p for p in settings.protocols if is_protocol(p) and p in known) or default


@dataclass(frozen=True, slots=True)
class ProviderCapabilities:
    """What an adapter can do besides chat, each declared as the way to ask for it (None: it
    cannot)."""

    # An embeddings request for (call, upstream model, key).
    embeddings: Callable[[EmbeddingCall, str, Key], UpstreamRequest] | None = None
    # A model's own document, for (upstream model, key): Ollama's /api/show.
    show: Callable[[str, Key], UpstreamRequest] | None = None
    # The upstream counts a Messages call's prompt, for (call, upstream model, key).
    count_tokens: Callable[[MessagesCall, str, Key], UpstreamRequest] | None = None
    # Its native chat ("ollama") takes a context window per request: that dialect asking for
    # so many tokens (None: the model's own).
    context_window: Callable[[int | None], Dialect] | None = None
    # Its streams carry quota events: the windows one event reports.
    stream_quota: Callable[[dict[str, Any]], tuple[QuotaWindow, ...]] | None = None


class BaseProvider:
    models_path: str = "/models"
    user_agent: str = USER_AGENT
    capabilities: ProviderCapabilities = ProviderCapabilities()  # chat only, unless an adapter says more
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
            account=key.account if isinstance(key, Access) else "",
        )

    def models_request(self, key: Key, request_id: str) -> UpstreamRequest:
        headers = tuple(h for h in self._headers(key, JSON) if h[0] != "Content-Type")
        return UpstreamRequest(
            provider=self.id,
            method="GET",
            url=self.settings.models_url or f"{self._base_for(key)}{self.models_path}",
            headers=headers,
            timeouts=self.settings.timeouts,
            account=key.account if isinstance(key, Access) else "",
        )

    def route(self, protocol: ProtocolId, upstream_model: str) -> tuple[Dialect, bool]:
        """The dialect a call in ``protocol`` goes out in for this model, and whether that is
        the client's own (the passthrough)."""
        own: Dialect | None = self.dialects.get(protocol)
        return (own, True) if own is not None else (self.primary, False)

    def parse_models(self, body: bytes) -> list[ModelEntry]:
        return parse_model_list(body, self.id, self.settings.model_prefix)

    def quota(self, headers: Mapping[str, str], now: float) -> tuple[QuotaWindow, ...]:
        """The quota windows an answer's headers report (an API key's rate limits by default)."""
        return ratelimit_headers(headers, now)

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
        *,
        stream: bool,
        extra: tuple[tuple[str, str], ...] = (),
        accept: str = SSE,
    ) -> UpstreamRequest: ...


class Dialect(Protocol):
    """One wire protocol as a provider speaks it: where to send, how to read the answer."""

    protocol: ClassVar[ProtocolId]
    stream_type: ClassVar[str]  # the media type of its streams

    def passthrough_request(
        self, call: Any, upstream_model: str, key: Key, canonical: Callable[[], ChatRequest]
    ) -> UpstreamRequest:
        """``call`` as the client sent it, model rewritten; ``canonical`` gives the same call in
        canonical form (decoded once per request; raises ``BodyError``), for what the body alone
        does not say."""
        ...

    def passthrough_relay(self, call: Any) -> Relay: ...

    def passthrough_usage(self, body: bytes) -> Usage | None: ...

    def translated_request(self, request: ChatRequest, upstream_model: str, key: Key) -> UpstreamRequest: ...

    def decode_response(self, body: bytes) -> ChatResponse: ...

    def stream_decoder(self) -> StreamDecoder: ...


class ChatProvider(Protocol):
    """What the pipeline needs of an upstream adapter."""

    id: str
    settings: ProviderSettings
    capabilities: ProviderCapabilities
    dialects: dict[str, Dialect]  # by protocol
    primary: Dialect  # where translated requests go

    def models_request(self, key: Key, request_id: str) -> UpstreamRequest: ...

    def route(self, protocol: ProtocolId, upstream_model: str) -> tuple[Dialect, bool]: ...

    def quota(self, headers: Mapping[str, str], now: float) -> tuple[QuotaWindow, ...]: ...

    def parse_models(self, body: bytes) -> list[ModelEntry]: ...

    def error(
        self, status: int, headers: Mapping[str, str], body: bytes, now: float, keys: tuple[str, ...]
    ) -> UpstreamStatus: ...

    def embedded_error(self, body: bytes, now: float, keys: tuple[str, ...]) -> UpstreamStatus | None: ...
