"""The OpenAI Responses API as a provider speaks it (``POST {base}/responses``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.protocols import ProtocolId
from gateway.core.usage import Usage
from gateway.formats.common import jsonbody
from gateway.formats.openai_responses import codec
from gateway.formats.openai_responses.checks import ResponsesCall
from gateway.formats.openai_responses.stream import Relay, StreamDecoder
from gateway.formats.openai_responses.usage import usage_from
from gateway.providers.access import Key
from gateway.providers.base import SSE, Poster
from gateway.transport import UpstreamRequest


def _response(body: bytes) -> dict[str, object]:
    """Raises ValueError when the answer is not a response object."""
    parsed = jsonbody.loads(body)
    if not isinstance(parsed, dict) or parsed.get("object") != "response":
        raise ValueError("not a response")
    return parsed


class Responses:
    protocol: ClassVar[ProtocolId] = "openai-responses"
    stream_type: ClassVar[str] = SSE

    def __init__(self, provider: Poster, path: str = "/responses") -> None:
        self._provider = provider
        self._path = path

    def passthrough_request(
        self, call: ResponsesCall, upstream_model: str, key: Key, canonical: Callable[[], ChatRequest]
    ) -> UpstreamRequest:
        body = jsonbody.with_model(call.source, call.body, upstream_model)
        return self._provider.post(self._path, body, key, stream=call.stream)

    def passthrough_relay(self, call: ResponsesCall) -> Relay:
        return Relay()

    def passthrough_usage(self, body: bytes) -> Usage | None:
        return usage_from(_response(body).get("usage"))

    def translated_request(self, request: ChatRequest, upstream_model: str, key: Key) -> UpstreamRequest:
        body = jsonbody.encode(codec.encode_request(request, upstream_model))
        return self._provider.post(self._path, body, key, stream=request.stream)

    def decode_response(self, body: bytes) -> ChatResponse:
        return codec.decode_response(_response(body))

    def stream_decoder(self) -> StreamDecoder:
        return StreamDecoder(self._provider.id)
