"""Models as the gateway names them: ``provider/model``."""

from __future__ import annotations

from dataclasses import dataclass

GATEWAY = "switchboard"  # the owner of names the gateway itself defines: aliases and "auto"


@dataclass(frozen=True, slots=True)
class ModelEntry:
    provider: str  # GATEWAY for an alias or "auto"
    upstream_id: str  # the name the provider knows it by
    created: int = 0
    # What the provider's own list says of it, where it says (OpenRouter's does): these beat the
    # bundled facts.
    context_length: int = 0  # 0: not said
    output: int = 0  # most tokens one answer may have; 0: not said
    capabilities: tuple[str, ...] | None = None  # completion, tools, vision, thinking
    cost: tuple[float, float] | None = None  # dollars per million tokens (input, output)

    @property
    def id(self) -> str:
        return self.upstream_id if self.provider == GATEWAY else f"{self.provider}/{self.upstream_id}"


@dataclass(frozen=True, slots=True)
class Target:
    """Where one request goes: a provider and the model name to send it."""

    provider: str
    upstream_model: str


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What is known of a model: for clients that ask before using it (Ollama's /api/show) and
    for the router choosing one."""

    family: str  # the architecture name clients key other facts by
    context_length: int
    capabilities: tuple[str, ...]  # Ollama's words: completion, tools, vision, thinking, embedding
    output: int = 0  # most tokens one answer may have (0: unknown)
    rating: int = 0  # 1-5: the hardest request it handles well (0: unknown, left out of auto)
    cost: tuple[float, float] | None = None  # US dollars per million tokens (input, output)
    reasons: bool = False  # always thinks before answering, out of the same output budget
    cached: float | None = None  # dollars per million cached input tokens, where the table states it
    efforts: tuple[str, ...] = ()  # the reasoning efforts it takes, where the table says (else low, medium, high)
