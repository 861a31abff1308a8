"""Ollama's native chat as a provider speaks it (``POST {root}/api/chat``, NDJSON streams)."""

from __future__ import annotations

from typing import ClassVar

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.usage import Usage
from gateway.formats import jsonbody
from gateway.formats.ollama import codec
from gateway.formats.ollama.checks import OllamaChatCall
from gateway.formats.ollama.stream import Relay, StreamDecoder
from gateway.providers.access import Key
from gateway.providers.base import NDJSON, Poster
from gateway.transport import UpstreamRequest


def _answer(body: bytes) -> dict[str, object]:
    """Raises ValueError when the body is not a chat answer."""
    parsed = jsonbody.loads(body)
    if not isinstance(parsed, dict) or "message" not in parsed:
        raise ValueError("not a chat answer")
    return parsed


class OllamaChat:
    protocol: ClassVar[str] = "ollama"
    stream_type: ClassVar[str] = NDJSON

    def __init__(self, provider: Poster, path: str = "/api/chat") -> None:
        self._provider = provider
        self._path = path

    def passthrough_request(self, call: OllamaChatCall, upstream_model: str, key: Key, request_id: str) -> UpstreamRequest:
        body = jsonbody.with_model(call.source, call.body, upstream_model)
        return self._provider.post(self._path, body, key, request_id, stream=call.stream, accept=NDJSON)

    def passthrough_relay(self, call: OllamaChatCall) -> Relay:
        return Relay()

    def passthrough_usage(self, body: bytes) -> Usage | None:
        return codec.usage_from(_answer(body))

    def translated_request(self, request: ChatRequest, upstream_model: str, key: Key, request_id: str) -> UpstreamRequest:
        body = jsonbody.encode(codec.encode_request(request, upstream_model))
        return self._provider.post(self._path, body, key, request_id, stream=request.stream, accept=NDJSON)

    def decode_response(self, body: bytes) -> ChatResponse:
        return codec.decode_response(_answer(body))

    def stream_decoder(self) -> StreamDecoder:
        return StreamDecoder(self._provider.id)
