"""How large a context window (``options.num_ctx``) a request to Ollama's native API asks for.

Ollama gives a model a small window unless asked for more (4096 tokens since 0.6, 2048 before)
and silently cuts a longer prompt to fit it (protocols.md §4.3). A request that needs more than
that asks for a window that holds its prompt and its answer:

- rounded up to a power of two. Ollama reloads the model whenever the window asked for changes,
  so a conversation growing turn by turn reloads it a handful of times (8k, 16k, 32k, …) instead
  of on nearly every turn, as rounding to a multiple of 1024 would;
- at most the model's trained context (``model_info["<arch>.context_length"]`` in /api/show),
  the most the server would give it anyway;
- never less than the window the model's own Modelfile sets (``num_ctx`` in ``parameters``).

A request that fits the smallest default asks for nothing: the server's own setting stands.
A window the client set itself, or one the config sets for the model, is asked for as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.core.protocols import ProtocolId
from gateway.formats.common import jsonbody
from gateway.formats.common.jsonbody import as_object
from gateway.formats.interfaces import ClientCall

DEFAULT_WINDOW = 4096  # what every Ollama since 0.6 gives a model nobody asked more for
# Room for the answer: what the client allows, but at most ANSWER_ROOM (a 32k limit is a ceiling,
# not a forecast, and every token of window holds server memory while the model is loaded), and
# UNSTATED_ANSWER when it sets no limit (most answers are shorter).
ANSWER_ROOM = 8192
UNSTATED_ANSWER = 1024
_OLLAMA_PROTOCOLS: tuple[ProtocolId, ...] = ("ollama", "ollama-generate")


@dataclass(frozen=True, slots=True)
class ModelWindow:
    """What a model's /api/show says of its window."""

    trained: int | None = None  # the most it was trained for
    preset: int | None = None  # what its Modelfile asks for


def model_window(document: bytes) -> ModelWindow:
    """From an /api/show answer; raises ValueError when it is not one."""
    show = jsonbody.loads(document)
    if not isinstance(show, dict):
        raise ValueError("not a show document")
    info = as_object(show.get("model_info"))
    trained = info.get(f"{info.get('general.architecture')}.context_length")
    return ModelWindow(trained if _positive(trained) else None, _preset(show.get("parameters")))


def _preset(parameters: Any) -> int | None:
    """``num_ctx`` from the Modelfile parameters, one ``name value`` a line."""
    for line in parameters.splitlines() if isinstance(parameters, str) else ():
        name, _, value = line.strip().partition(" ")
        if name == "num_ctx" and value.strip().isdigit():
            return int(value) or None
    return None


def _positive(value: Any) -> bool:
    return type(value) is int and value > 0


def needed(prompt_tokens: int, output_limit: int | None) -> int:
    """The tokens a request fills: its prompt and room for its answer."""
    return prompt_tokens + min(output_limit or UNSTATED_ANSWER, ANSWER_ROOM)


def window(need: int, model: ModelWindow) -> int | None:
    """The window to ask for ``need`` tokens (see the module's docstring); None: the model's own."""
    if need <= (model.preset or DEFAULT_WINDOW):
        return None
    size = 1 << (need - 1).bit_length()
    return min(size, model.trained) if model.trained else size


def asked_window(call: ClientCall) -> int | None:
    """The window an Ollama client set itself: it goes upstream whatever the route."""
    if call.protocol not in _OLLAMA_PROTOCOLS:
        return None
    value = as_object(call.body.get("options")).get("num_ctx")
    return value if _positive(value) else None


def configured_window(table: Sequence[tuple[str, int]], model: str) -> int | None:
    """The window the config sets for a model, named with its tag or without (``:latest``)."""
    wanted = _tagged(model)
    return next((size for name, size in table if _tagged(name) == wanted), None)


def _tagged(name: str) -> str:
    return name if ":" in name.rpartition("/")[2] else f"{name}:latest"


def with_window(body: dict[str, Any], size: int) -> dict[str, Any]:
    """``body`` asking for a window of ``size`` tokens, unless the client asked for one itself
    (then ``body`` itself)."""
    options = as_object(body.get("options"))
    if "num_ctx" in options:
        return body
    return {**body, "options": {**options, "num_ctx": size}}
