"""Models as the gateway names them: ``provider/model``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelEntry:
    provider: str
    upstream_id: str  # the name the provider knows it by
    created: int = 0
    context_length: int = 0  # when the provider's list says (0: unknown)

    @property
    def id(self) -> str:
        return f"{self.provider}/{self.upstream_id}"


@dataclass(frozen=True, slots=True)
class Target:
    """Where one request goes: a provider and the model name to send it."""

    provider: str
    upstream_model: str


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What a client may want to know of a model before using it (Ollama's /api/show)."""

    family: str  # the architecture name clients key other facts by
    context_length: int
    capabilities: tuple[str, ...]  # Ollama's words: completion, tools, vision, thinking, embedding
