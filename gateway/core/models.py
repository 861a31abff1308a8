"""Models as the gateway names them: ``provider/model``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelEntry:
    provider: str
    upstream_id: str  # the name the provider knows it by
    created: int = 0

    @property
    def id(self) -> str:
        return f"{self.provider}/{self.upstream_id}"


@dataclass(frozen=True, slots=True)
class Target:
    """Where one request goes: a provider and the model name to send it."""

    provider: str
    upstream_model: str
