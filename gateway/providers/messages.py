"""Anthropic Messages as a provider speaks it (``POST {root}/v1/messages``).

Anthropic clients' ``anthropic-version`` and ``anthropic-beta`` headers pass through; other
clients get the current version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.protocols import ProtocolId
from gateway.core.usage import Usage
from gateway.formats.anthropic import codec
from gateway.formats.anthropic.checks import MessagesCall
from gateway.formats.anthropic.stream import Relay, StreamDecoder
from gateway.formats.anthropic.usage import usage_from
from gateway.formats.common import jsonbody
from gateway.providers.access import Key
from gateway.providers.base import SSE, Dialect, Poster
from gateway.transport import UpstreamRequest

ANTHROPIC_VERSION = "2023-06-01"


def version_headers(call: MessagesCall | None) -> tuple[tuple[str, str], ...]:
    version = (call.version if call else None) or ANTHROPIC_VERSION
    beta = call.beta if call else None
    return (("anthropic-version", version), *((("anthropic-beta", beta),) if beta else ()))


def _message(body: bytes) -> dict[str, object]:
    """Raises ValueError when the answer is not a message."""
    parsed = jsonbody.loads(body)
    if not isinstance(parsed, dict) or parsed.get("type") != "message":
        raise ValueError("not a message")
    return parsed


class Messages:
    protocol: ClassVar[ProtocolId] = "anthropic"
    stream_type: ClassVar[str] = SSE

    def __init__(self, provider: Poster, path: str = "/v1/messages") -> None:
        self._provider = provider
        self._path = path

    def passthrough_request(
        self, call: MessagesCall, upstream_model: str, key: Key, canonical: Callable[[], ChatRequest]
    ) -> UpstreamRequest:
        body = jsonbody.with_model(call.source, call.body, upstream_model)
        return self._provider.post(self._path, body, key, stream=call.stream, extra=version_headers(call))

    def passthrough_relay(self, call: MessagesCall) -> Relay:
        return Relay()

    def passthrough_usage(self, body: bytes) -> Usage | None:
        return usage_from(_message(body).get("usage"))

    def count_tokens_request(self, call: MessagesCall, upstream_model: str, key: Key) -> UpstreamRequest:
        body = jsonbody.with_model(call.source, call.body, upstream_model)
        return self._provider.post(f"{self._path}/count_tokens", body, key, stream=False, extra=version_headers(call))

    def translated_request(self, request: ChatRequest, upstream_model: str, key: Key) -> UpstreamRequest:
        body = jsonbody.encode(codec.encode_request(request, upstream_model))
        return self._provider.post(self._path, body, key, stream=request.stream, extra=version_headers(None))

    def decode_response(self, body: bytes) -> ChatResponse:
        return codec.decode_response(_message(body))

    def stream_decoder(self) -> StreamDecoder:
        return StreamDecoder(self._provider.id)


def count_tokens_of(dialects: Mapping[str, Dialect]) -> Callable[[MessagesCall, str, Key], UpstreamRequest] | None:
    """Where a provider counts a Messages prompt: beside its Messages endpoint, if it speaks it."""
    messages = dialects.get(Messages.protocol)
    return messages.count_tokens_request if isinstance(messages, Messages) else None
