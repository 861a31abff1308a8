"""Ollama's native chat as a provider speaks it (``POST {root}/api/chat``, NDJSON streams),
asking for the context window a request needs (``formats.ollama.window``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.protocols import ProtocolId
from gateway.core.usage import Usage
from gateway.formats.common import jsonbody
from gateway.formats.ollama import codec
from gateway.formats.ollama.checks import OllamaChatCall
from gateway.formats.ollama.stream import Relay, StreamDecoder
from gateway.formats.ollama.window import with_window
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
    protocol: ClassVar[ProtocolId] = "ollama"
    stream_type: ClassVar[str] = NDJSON

    def __init__(self, provider: Poster, path: str = "/api/chat", window: int | None = None) -> None:
        self._provider = provider
        self._path = path
        self._window = window

    def sized(self, window: int | None) -> OllamaChat:
        """This dialect asking for a context window of ``window`` tokens where the client did not
        set one (None: the model's own)."""
        return self if window == self._window else OllamaChat(self._provider, self._path, window)

    def _sized(self, body: dict[str, Any]) -> dict[str, Any]:
        return body if self._window is None else with_window(body, self._window)

    def passthrough_request(
        self, call: OllamaChatCall, upstream_model: str, key: Key, canonical: Callable[[], ChatRequest]
    ) -> UpstreamRequest:
        sized = self._sized(call.body)
        body = jsonbody.with_model(call.source if sized is call.body else None, sized, upstream_model)
        return self._provider.post(self._path, body, key, stream=call.stream, accept=NDJSON)

    def passthrough_relay(self, call: OllamaChatCall) -> Relay:
        return Relay()

    def passthrough_usage(self, body: bytes) -> Usage | None:
        return codec.usage_from(_answer(body))

    def translated_request(self, request: ChatRequest, upstream_model: str, key: Key) -> UpstreamRequest:
        body = jsonbody.encode(self._sized(codec.encode_request(request, upstream_model)))
        return self._provider.post(self._path, body, key, stream=request.stream, accept=NDJSON)

    def decode_response(self, body: bytes) -> ChatResponse:
        return codec.decode_response(_answer(body))

    def stream_decoder(self) -> StreamDecoder:
        return StreamDecoder(self._provider.id)
