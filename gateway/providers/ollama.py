"""Ollama as an upstream: its native API at the server's root (``http://localhost:11434``).

Chat goes to ``/api/chat``; OpenAI Chat clients pass straight through to its OpenAI-compatible
``/v1/chat/completions`` (and, where configured, Responses clients to ``/v1/responses`` and
Anthropic clients to ``/v1/messages``, which newer servers have). Models come from
``/api/tags``; ``/api/show`` is asked on a client's behalf, so capabilities are the server's own.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.core.protocols import ProtocolId
from gateway.formats.common import jsonbody
from gateway.formats.openai import embeddings as openai_embeddings
from gateway.providers.access import Key
from gateway.providers.base import BaseProvider, Dialect, Poster, ProviderCapabilities, chosen_protocols
from gateway.providers.chat_completions import ChatCompletions
from gateway.providers.messages import Messages, count_tokens_of
from gateway.providers.ollama_chat import OllamaChat
from gateway.providers.responses import Responses
from gateway.providers.settings import ProviderSettings
from gateway.transport import UpstreamRequest

DIALECTS: dict[ProtocolId, Callable[[Poster], Dialect]] = {
    "ollama": OllamaChat,
    "openai-chat": lambda p: ChatCompletions(p, "/v1/chat/completions"),
    "openai-responses": lambda p: Responses(p, "/v1/responses"),
    "anthropic": Messages,
}
DEFAULT_PROTOCOLS: tuple[ProtocolId, ...] = ("ollama", "openai-chat")  # what every Ollama since 0.5 has


class OllamaProvider(BaseProvider):
    models_path = "/api/tags"

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        chosen = chosen_protocols(settings, DIALECTS, DEFAULT_PROTOCOLS)
        self.dialects: dict[str, Dialect] = {p: DIALECTS[p](self) for p in chosen}
        self.primary: Dialect = self.dialects[chosen[0]]
        native = self.dialects.get(OllamaChat.protocol)
        self.capabilities = ProviderCapabilities(
            embeddings=self._embeddings_request,
            show=self._show_request,
            count_tokens=count_tokens_of(self.dialects),
            context_window=native.sized if isinstance(native, OllamaChat) else None,
        )

    def _embeddings_request(
        self, call: openai_embeddings.EmbeddingCall, upstream_model: str, key: Key
    ) -> UpstreamRequest:
        return self.post("/v1/embeddings", openai_embeddings.upstream_body(call, upstream_model), key, stream=False)

    def _show_request(self, upstream_model: str, key: Key) -> UpstreamRequest:
        return self.post("/api/show", jsonbody.encode({"model": upstream_model}), key, stream=False)
