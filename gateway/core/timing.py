"""When a request began, for answers that say so (Ollama reports durations in nanoseconds)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timing:
    created: int  # Unix seconds, for "created" fields
    started: float  # on the monotonic clock
    monotonic: Callable[[], float]  # the clock, read when an answer ends

    def elapsed_ns(self) -> int:
        return max(0, int((self.monotonic() - self.started) * 1e9))
