"""Anthropic's Messages API as an upstream: api.anthropic.com, or any Anthropic-compatible server
(Moonshot, Z.ai, Ollama, llama.cpp and LM Studio speak it too).

The base URL is the server's root (``https://api.anthropic.com``); paths carry ``/v1``, as
``ANTHROPIC_BASE_URL`` means for Claude Code.
"""

from __future__ import annotations

from gateway.providers.access import Key
from gateway.providers.base import BaseProvider, Dialect, ProviderCapabilities
from gateway.providers.messages import Messages, count_tokens_of, version_headers
from gateway.providers.settings import ProviderSettings
from gateway.transport import UpstreamRequest


class AnthropicProvider(BaseProvider):
    models_path = "/v1/models?limit=1000"  # the API pages 20 at a time by default

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        messages = Messages(self)
        self.dialects: dict[str, Dialect] = {Messages.protocol: messages}
        self.primary: Dialect = messages
        self.capabilities = ProviderCapabilities(count_tokens=count_tokens_of(self.dialects))

    def models_request(self, key: Key, request_id: str) -> UpstreamRequest:
        request = super().models_request(key, request_id)
        return UpstreamRequest(
            provider=request.provider,
            method=request.method,
            url=request.url,
            headers=(*request.headers, *version_headers(None)),
            timeouts=request.timeouts,
        )
