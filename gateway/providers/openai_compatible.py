"""The one adapter behind every OpenAI-compatible upstream in the catalog."""

from __future__ import annotations

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.usage import Usage
from gateway.formats import jsonbody, openai_chat, openai_embeddings
from gateway.formats.openai_chat import codec
from gateway.formats.openai_chat.stream import StreamDecoder
from gateway.providers.base import BaseProvider
from gateway.transport import UpstreamRequest


class OpenAICompatible(BaseProvider):
    protocol = "openai-chat"

    def passthrough_request(self, call: openai_chat.ChatCall, upstream_model: str, key: str | None, request_id: str) -> UpstreamRequest:
        body = openai_chat.upstream_body(call, upstream_model, ask_usage=self.settings.stream_usage)
        return self._post("/chat/completions", body, key, request_id, stream=call.stream)

    def passthrough_relay(self, call: openai_chat.ChatCall) -> openai_chat.StreamRelay:
        # The usage chunk was asked for on the client's behalf only when it did not ask itself.
        return openai_chat.StreamRelay(drop_usage_chunk=self.settings.stream_usage and not call.wants_usage)

    def passthrough_usage(self, body: bytes) -> Usage | None:
        """Raises ValueError when the answer is not a chat completion."""
        if b'"choices"' not in body:
            raise ValueError("not a chat completion")
        return openai_chat.completion_usage(body)

    def translated_request(self, request: ChatRequest, upstream_model: str, key: str | None, request_id: str) -> UpstreamRequest:
        body = codec.encode_request(request, upstream_model, stream_usage=self.settings.stream_usage)
        return self._post("/chat/completions", jsonbody.encode(body), key, request_id, stream=request.stream)

    def decode_response(self, body: bytes) -> ChatResponse:
        """Raises ValueError when the answer is not a JSON object."""
        parsed = jsonbody.loads(body)
        if not isinstance(parsed, dict) or "choices" not in parsed:
            raise ValueError("not a chat completion")
        return codec.decode_response(parsed)

    def stream_decoder(self) -> StreamDecoder:
        return StreamDecoder(self.id)

    def embeddings_request(self, call: openai_embeddings.EmbeddingCall, upstream_model: str, key: str | None, request_id: str) -> UpstreamRequest:
        return self._post("/embeddings", openai_embeddings.upstream_body(call, upstream_model), key, request_id, stream=False)
