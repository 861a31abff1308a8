"""Each local model server's models and the context each one is given, as the server says, for the doctor.

Claude Code and Codex send instructions and tool lists of well over ten thousand tokens before the
task itself, so a model given a small window cuts them short or fails: the doctor names each such
model with what would help. What each server says (protocols.md §4.3, §6):

- Ollama: ``/api/show`` per model, its trained ``context_length`` and its Modelfile's ``num_ctx``.
  Through Ollama's own API the gateway asks for a window sized to each request, up to the trained
  length (or the window the settings fix for the model); through its OpenAI-compatible one the
  model gets the Modelfile's window, else the server's default.
- llama.cpp: ``/props``, ``default_generation_settings.n_ctx``: the window it was started with.
- LM Studio: ``/api/v0/models``, a loaded model's ``loaded_context_length``, else its ``max_context_length``.
- Any other: the context its model list states (vLLM's ``max_model_len``), where it states one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import GatewayError
from gateway.formats.ollama.window import DEFAULT_WINDOW, model_window
from gateway.pipeline.gateway import Gateway
from gateway.providers.base import USER_AGENT, ChatProvider
from gateway.transport import Timeouts, Transport, UpstreamRequest

SMALL_CONTEXT = 16384  # tokens: less leaves a coding tool's instructions little room, or none
_QUICK = Timeouts(connect=5.0, read=10.0, total=20.0)
_MOST = 4 * 1024 * 1024  # bytes of a server's answer (LM Studio lists every downloaded model)
NEWER_MODEL = "Use a model made for longer prompts."


@dataclass(frozen=True, slots=True)
class ModelContext:
    model: str
    tokens: int  # the window the model gets (0: the server does not say)
    advice: str  # what would give it more, in plain words


async def local_contexts(gateway: Gateway, provider: ChatProvider) -> list[ModelContext]:
    """The context of each chat model ``provider`` (a local server that answered) lists."""
    entries = {e.upstream_id: e.context_length for e in await gateway.models() if e.provider == provider.id}
    asker = _Asker(gateway.transport, provider)
    if provider.settings.kind == "ollama":
        return [c for c in await asyncio.gather(*(_ollama(asker, provider, m) for m in entries)) if c is not None]
    lmstudio = await asker.json("GET", "/api/v0/models")
    if lmstudio is not None and isinstance(lmstudio.get("data"), list):
        return _lmstudio(lmstudio["data"], entries)
    props = await asker.json("GET", "/props")
    settings = props.get("default_generation_settings") if props is not None else None
    n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
    if isinstance(n_ctx, int):
        advice = "Start the llama.cpp server with a larger context size."
        return [ModelContext(m, n_ctx, advice) for m in entries]
    return [ModelContext(m, tokens, NEWER_MODEL) for m, tokens in entries.items()]


class _Asker:
    """One local server's native API, at the root its OpenAI-compatible address sits under."""

    def __init__(self, transport: Transport, provider: ChatProvider) -> None:
        settings = provider.settings
        self._transport = transport
        self._provider = settings.id
        self._root = settings.base_url.rstrip("/").removesuffix("/v1")
        key = (("Authorization", f"Bearer {settings.keys[0]}"),) if settings.keys else ()
        self._headers = (("User-Agent", USER_AGENT), ("Content-Type", "application/json"), *key)

    async def json(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The answer's JSON object; None for anything else (an error, a server without that path)."""
        data = json.dumps(body).encode() if body is not None else None
        request = UpstreamRequest(self._provider, method, self._root + path, self._headers, data, _QUICK)
        try:
            response = await self._transport.send(request)
            try:
                raw = await response.read(_MOST) if response.status == 200 else b""
            finally:
                response.close()
            found = json.loads(raw) if raw else None
        except (GatewayError, ValueError):
            return None
        return found if isinstance(found, dict) else None


async def _ollama(asker: _Asker, provider: ChatProvider, model: str) -> ModelContext | None:
    show = await asker.json("POST", "/api/show", {"model": model})
    if show is None:
        return ModelContext(model, 0, NEWER_MODEL)
    capabilities = show.get("capabilities")
    if isinstance(capabilities, list) and "completion" not in capabilities:
        return None  # an embedding model: no prompt to hold
    shown = model_window(json.dumps(show).encode())
    fixed = dict(provider.settings.num_ctx).get(model)
    if fixed is not None:
        return ModelContext(model, fixed, "Give it a larger context window in Switchboard's settings for Ollama.")
    if provider.capabilities.context_window is not None:  # the gateway sizes each request's window
        return ModelContext(model, shown.trained or shown.preset or DEFAULT_WINDOW, NEWER_MODEL)
    advice = "Let Switchboard use Ollama's own API for it, or set a larger context length in Ollama."
    return ModelContext(model, shown.preset or DEFAULT_WINDOW, advice)


def _lmstudio(rows: list[Any], listed: Mapping[str, int]) -> list[ModelContext]:
    out = []
    for row in rows:
        if not isinstance(row, dict) or row.get("type") == "embeddings" or row.get("id") not in listed:
            continue
        loaded, most = row.get("loaded_context_length"), row.get("max_context_length")
        if isinstance(loaded, int) and loaded > 0:
            out.append(ModelContext(row["id"], loaded, "In LM Studio, load it with a larger context length."))
        else:
            out.append(ModelContext(row["id"], most if isinstance(most, int) else 0, NEWER_MODEL))
    return out
