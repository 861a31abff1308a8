"""The model documents of the Ollama API (protocols.md §4.1–4.3, §4.7), for every gateway model.

Gateway models are no local files, so sizes are 0 and the digest is a stable hash of the name;
``details`` and ``model_info`` carry what is known of the model: its family, context window and
capabilities, which is what clients such as VS Code Copilot Chat read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from gateway.core.models import ModelEntry, ModelFacts
from gateway.formats.common.jsonbody import encode
from gateway.formats.ollama.codec import iso_time

# The Ollama version the gateway answers as: VS Code Copilot Chat needs at least 0.6.4.
COMPATIBLE_VERSION = "0.13.5"


def render_version() -> bytes:
    return encode({"version": COMPATIBLE_VERSION})


def _digest(entry: ModelEntry) -> str:
    return hashlib.sha256(entry.id.encode()).hexdigest()


def _details(facts: ModelFacts) -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "",
        "family": facts.family,
        "families": [facts.family],
        "parameter_size": "",
        "quantization_level": "",
    }


def _listed(entry: ModelEntry, facts: ModelFacts) -> dict[str, Any]:
    return {
        "name": entry.id,
        "model": entry.id,
        "modified_at": iso_time(entry.created),
        "size": 0,
        "digest": _digest(entry),
        "details": _details(facts),
    }


def render_tags(models: Iterable[tuple[ModelEntry, ModelFacts]]) -> bytes:
    return encode({"models": [_listed(e, f) for e, f in models]})


def render_show(entry: ModelEntry, facts: ModelFacts) -> bytes:
    arch = facts.family
    return encode(
        {
            "modelfile": "",
            "parameters": "",
            "template": "",
            "details": _details(facts),
            "model_info": {
                "general.architecture": arch,
                "general.basename": entry.id,
                f"{arch}.context_length": facts.context_length,
            },
            "capabilities": list(facts.capabilities),
            "modified_at": iso_time(entry.created),
        }
    )


def render_running(models: Iterable[tuple[ModelEntry, ModelFacts, float]]) -> bytes:
    """Models in use: those that served a request within their keep-alive, until when."""
    return encode(
        {
            "models": [
                {**_listed(e, f), "expires_at": iso_time(until), "size_vram": 0, "context_length": f.context_length}
                for e, f, until in models
            ]
        }
    )
