"""The one adapter behind every OpenAI-compatible upstream in the catalog: Chat Completions,
and the Responses API where the server has it (``protocols`` in its settings)."""

from __future__ import annotations

from collections.abc import Callable

from gateway.core.protocols import ProtocolId
from gateway.formats.openai import embeddings as openai_embeddings
from gateway.providers.access import Key
from gateway.providers.base import BaseProvider, Dialect, Poster, ProviderCapabilities, chosen_protocols
from gateway.providers.chat_completions import ChatCompletions
from gateway.providers.responses import Responses
from gateway.providers.settings import ProviderSettings
from gateway.transport import UpstreamRequest

DIALECTS: dict[ProtocolId, Callable[[Poster], Dialect]] = {
    "openai-chat": ChatCompletions,
    "openai-responses": Responses,
}


class OpenAICompatible(BaseProvider):
    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        chosen = chosen_protocols(settings, DIALECTS, ("openai-chat",))
        self.dialects: dict[str, Dialect] = {p: DIALECTS[p](self) for p in chosen}
        self.primary: Dialect = self.dialects[chosen[0]]
        self.capabilities = ProviderCapabilities(embeddings=self._embeddings_request)

    def _embeddings_request(
        self, call: openai_embeddings.EmbeddingCall, upstream_model: str, key: Key
    ) -> UpstreamRequest:
        return self.post("/embeddings", openai_embeddings.upstream_body(call, upstream_model), key, stream=False)
