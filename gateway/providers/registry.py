"""Which adapter serves each kind of provider: the one place that names the adapter classes.

A provider's settings say its ``kind``; everything past this lookup holds a ``ChatProvider`` and
reads its declared ``capabilities``, never its class.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.providers.anthropic import AnthropicProvider
from gateway.providers.base import ChatProvider
from gateway.providers.codex import CodexProvider
from gateway.providers.copilot import CopilotProvider
from gateway.providers.ollama import OllamaProvider
from gateway.providers.openai_compatible import OpenAICompatible
from gateway.providers.settings import ProviderSettings

ADAPTERS: dict[str, Callable[[ProviderSettings], ChatProvider]] = {
    "openai-compatible": OpenAICompatible,
    "anthropic": AnthropicProvider,
    "ollama": OllamaProvider,
    "codex": CodexProvider,
    "copilot": CopilotProvider,
}


def adapter(settings: ProviderSettings) -> ChatProvider:
    """The adapter for a provider's kind (the generic OpenAI-compatible one for any other)."""
    return ADAPTERS.get(settings.kind, OpenAICompatible)(settings)
