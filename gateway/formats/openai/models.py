"""OpenAI model lists: reading an upstream's ``/models`` and writing ours (protocols.md §1.6)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.core.models import ModelEntry
from gateway.formats.common import jsonbody


def parse_model_list(body: bytes, provider: str, strip_prefix: str = "") -> list[ModelEntry]:
    """Model ids from ``{"data": [...]}``, a bare array (GitHub Models' catalog) or
    ``{"models": [...]}``. Raises ValueError when the body holds no list."""
    parsed: Any = jsonbody.loads(body)
    items = parsed
    if isinstance(parsed, dict):
        items = parsed.get("data", parsed.get("models"))
    if not isinstance(items, list):
        raise ValueError("no model list in the response")
    entries: dict[str, ModelEntry] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        model_id = item.get("id") or item.get("name")
        if not isinstance(model_id, str) or not model_id:
            continue
        if strip_prefix and model_id.startswith(strip_prefix):
            model_id = model_id[len(strip_prefix) :]
        created = item.get("created")
        created = created if isinstance(created, int) and not isinstance(created, bool) else 0
        entries.setdefault(
            model_id,
            ModelEntry(provider, model_id, created, _context(item), _output(item), _capabilities(item), _cost(item)),
        )
    return list(entries.values())


def _output(item: dict[str, Any]) -> int:
    top = item.get("top_provider")
    value = top.get("max_completion_tokens") if isinstance(top, dict) else None
    return value if type(value) is int and 0 < value < 100_000_000 else 0


def _capabilities(item: dict[str, Any]) -> tuple[str, ...] | None:
    """What the model takes, from OpenRouter's ``supported_parameters`` and ``architecture``;
    None when the list does not say."""
    parameters = item.get("supported_parameters")
    architecture = item.get("architecture")
    inputs = architecture.get("input_modalities") if isinstance(architecture, dict) else None
    if not isinstance(parameters, list) and not isinstance(inputs, list):
        return None
    parameters = parameters if isinstance(parameters, list) else []
    found = ["completion"]
    if "tools" in parameters:
        found.append("tools")
    if isinstance(inputs, list) and "image" in inputs:
        found.append("vision")
    if "reasoning" in parameters:
        found.append("thinking")
    return tuple(found)


def _cost(item: dict[str, Any]) -> tuple[float, float] | None:
    """Dollars per million tokens from OpenRouter's ``pricing`` (dollars per token, as text);
    None when absent or variable (its ``-1``)."""
    pricing = item.get("pricing")
    if not isinstance(pricing, dict):
        return None
    try:
        prompt, completion = float(pricing["prompt"]), float(pricing["completion"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (0 <= prompt < 1 and 0 <= completion < 1):
        return None
    return round(prompt * 1e6, 6), round(completion * 1e6, 6)


def _context(item: dict[str, Any]) -> int:
    """The context window, where a list gives it (OpenRouter, LM Studio, vLLM, Groq name it
    differently)."""
    for key in ("context_length", "context_window", "max_context_length", "max_model_len"):
        value = item.get(key)
        if type(value) is int and 0 < value < 100_000_000:
            return value
    return 0


def _model_object(entry: ModelEntry) -> dict[str, Any]:
    return {"id": entry.id, "object": "model", "created": entry.created, "owned_by": entry.provider}


def render_model_list(entries: Iterable[ModelEntry]) -> bytes:
    return jsonbody.encode({"object": "list", "data": [_model_object(e) for e in entries]})


def render_model(entry: ModelEntry) -> bytes:
    return jsonbody.encode(_model_object(entry))
