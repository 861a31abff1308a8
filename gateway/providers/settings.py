"""A provider as configured: where it is, how to authenticate, what it can do."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.transport import Timeouts

ROTATIONS = ("round-robin", "sequential")  # how requests take a provider's keys (routing/pool.py)


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    id: str
    name: str
    base_url: str
    keys: tuple[str, ...] = field(repr=False)
    kind: str = "openai-compatible"  # the adapter: "openai-compatible", "anthropic" or "ollama"
    protocols: tuple[str, ...] = ()  # the wire protocols it speaks, first preferred; () = the kind's own
    auth: str = "bearer"
    local: bool = False
    probe: bool = False  # enabled only because its usual address might answer
    stream_usage: bool = True
    models: tuple[str, ...] = ()
    models_url: str = ""
    model_prefix: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    timeouts: Timeouts = Timeouts()
    rotation: str = "round-robin"  # how requests take its keys: "round-robin" or "sequential"
    max_request_bytes: int = 0  # the largest request body it takes (0: no limit known)
    source: str = "config"  # "config", "environment" or "default"
