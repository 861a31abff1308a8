"""The ids of the wire protocols, spelled once.

A client's call arrives in one of them, a provider's dialect speaks one upstream, and the usage
ledger and the metrics count every request under the one it arrived in (embeddings included).
"""

from __future__ import annotations

from typing import Literal, TypeGuard, get_args

ProtocolId = Literal[
    "openai-chat",  # OpenAI Chat Completions
    "openai-responses",  # OpenAI Responses
    "anthropic",  # Anthropic Messages
    "ollama",  # Ollama's native chat
    "ollama-generate",  # Ollama's native completion (clients only)
    "openai-embeddings",  # OpenAI's embeddings (the ledger's name for them)
    "ollama-embeddings",  # Ollama's /api/embed and /api/embeddings (likewise)
]
PROTOCOL_IDS: frozenset[str] = frozenset(get_args(ProtocolId))


def is_protocol(name: str) -> TypeGuard[ProtocolId]:
    """Whether ``name`` (from a settings file) is one of the ids."""
    return name in PROTOCOL_IDS
