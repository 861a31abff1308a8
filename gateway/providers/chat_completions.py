"""OpenAI Chat Completions as a provider speaks it (``POST {base}/chat/completions``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.protocols import ProtocolId
from gateway.core.usage import Usage
from gateway.formats import openai_chat
from gateway.formats.common import jsonbody
from gateway.formats.openai_chat import codec
from gateway.formats.openai_chat.stream import StreamDecoder
from gateway.providers.access import Key
from gateway.providers.base import SSE, Poster
from gateway.transport import UpstreamRequest


class ChatCompletions:
    protocol: ClassVar[ProtocolId] = "openai-chat"
    stream_type: ClassVar[str] = SSE

    def __init__(self, provider: Poster, path: str = "/chat/completions") -> None:
        self._provider = provider
        self._path = path
        self._ask_usage = provider.settings.stream_usage
        self._reasoning_history = provider.settings.reasoning_history

    def passthrough_request(
        self, call: openai_chat.ChatCall, upstream_model: str, key: Key, canonical: Callable[[], ChatRequest]
    ) -> UpstreamRequest:
        body = openai_chat.upstream_body(call, upstream_model, ask_usage=self._ask_usage)
        return self._provider.post(self._path, body, key, stream=call.stream)

    def passthrough_relay(self, call: openai_chat.ChatCall) -> openai_chat.StreamRelay:
        # The usage chunk was asked for on the client's behalf only when it did not ask itself.
        return openai_chat.StreamRelay(
            drop_usage_chunk=self._ask_usage and not call.wants_usage, wants_usage=call.wants_usage
        )

    def passthrough_usage(self, body: bytes) -> Usage | None:
        """Raises ValueError when the answer is not a chat completion."""
        if b'"choices"' not in body:
            raise ValueError("not a chat completion")
        return openai_chat.completion_usage(body)

    def translated_request(self, request: ChatRequest, upstream_model: str, key: Key) -> UpstreamRequest:
        body = codec.encode_request(
            request, upstream_model, stream_usage=self._ask_usage, reasoning_history=self._reasoning_history
        )
        return self._provider.post(self._path, jsonbody.encode(body), key, stream=request.stream)

    def decode_response(self, body: bytes) -> ChatResponse:
        """Raises ValueError when the answer is not a chat completion."""
        parsed = jsonbody.loads(body)
        if not isinstance(parsed, dict) or "choices" not in parsed:
            raise ValueError("not a chat completion")
        return codec.decode_response(parsed)

    def stream_decoder(self) -> StreamDecoder:
        return StreamDecoder(self._provider.id)
