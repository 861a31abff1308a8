"""Anthropic's Messages API as an upstream: api.anthropic.com, or any Anthropic-compatible server
(Moonshot, Z.ai, Ollama, llama.cpp and LM Studio speak it too).

The base URL is the server's root (``https://api.anthropic.com``); paths carry ``/v1``, as
``ANTHROPIC_BASE_URL`` means for Claude Code. Anthropic clients' ``anthropic-version`` and
``anthropic-beta`` headers pass through; other clients get the current version.
"""

from __future__ import annotations

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.usage import Usage
from gateway.formats import jsonbody
from gateway.formats.anthropic import codec
from gateway.formats.anthropic.checks import MessagesCall
from gateway.formats.anthropic.stream import Relay, StreamDecoder
from gateway.formats.anthropic.usage import usage_from
from gateway.providers.base import BaseProvider
from gateway.transport import UpstreamRequest

ANTHROPIC_VERSION = "2023-06-01"


def _version_headers(call: MessagesCall | None) -> tuple[tuple[str, str], ...]:
    version = (call.version if call else None) or ANTHROPIC_VERSION
    beta = call.beta if call else None
    return (("anthropic-version", version), *((("anthropic-beta", beta),) if beta else ()))


class AnthropicProvider(BaseProvider):
    protocol = "anthropic"
    models_path = "/v1/models?limit=1000"  # the API pages 20 at a time by default

    def models_request(self, key: str | None, request_id: str) -> UpstreamRequest:
        request = super().models_request(key, request_id)
        return UpstreamRequest(
            provider=request.provider,
            method=request.method,
            url=request.url,
            headers=(*request.headers, *_version_headers(None)),
            timeouts=request.timeouts,
        )

    def passthrough_request(self, call: MessagesCall, upstream_model: str, key: str | None, request_id: str) -> UpstreamRequest:
        body = jsonbody.with_model(call.source, call.body, upstream_model)
        return self._post("/v1/messages", body, key, request_id, stream=call.stream, extra=_version_headers(call))

    def passthrough_relay(self, call: MessagesCall) -> Relay:
        return Relay()

    def passthrough_usage(self, body: bytes) -> Usage | None:
        """Raises ValueError when the answer is not a message."""
        parsed = jsonbody.loads(body)
        if not isinstance(parsed, dict) or parsed.get("type") != "message":
            raise ValueError("not a message")
        return usage_from(parsed.get("usage"))

    def count_tokens_request(self, call: MessagesCall, upstream_model: str, key: str | None, request_id: str) -> UpstreamRequest:
        body = jsonbody.with_model(call.source, call.body, upstream_model)
        return self._post("/v1/messages/count_tokens", body, key, request_id, stream=False, extra=_version_headers(call))

    def translated_request(self, request: ChatRequest, upstream_model: str, key: str | None, request_id: str) -> UpstreamRequest:
        body = jsonbody.encode(codec.encode_request(request, upstream_model))
        return self._post("/v1/messages", body, key, request_id, stream=request.stream, extra=_version_headers(None))

    def decode_response(self, body: bytes) -> ChatResponse:
        """Raises ValueError when the answer is not a message."""
        parsed = jsonbody.loads(body)
        if not isinstance(parsed, dict) or parsed.get("type") != "message":
            raise ValueError("not a message")
        return codec.decode_response(parsed)

    def stream_decoder(self) -> StreamDecoder:
        return StreamDecoder(self.id)
