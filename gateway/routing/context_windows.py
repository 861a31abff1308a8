"""The context window each request to a native Ollama asks for, sized to the request
(``formats.ollama.window`` says how) and held while the model stays loaded.

Ollama reloads a model whenever the window asked for changes. So once a model was asked for a
window, every request to it asks for at least that one while the model is loaded (it stays for
``hold`` seconds after its last request, Ollama's keep-alive): a short request between long ones
(a title, a check) does not shrink the window and reload the model twice.

What a model allows comes from the server's /api/show, kept per model from the first answer: one
a client asked for through the gateway (VS Code asks about every model it lists), or else one
asked here when a prompt first outgrows the default window. So a model is asked about once, and
requests that need the answer meanwhile wait for the same one. A show that fails is not kept:
the request goes without a cap (the server caps the window itself) and the next one asks again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from gateway.core.models import Target
from gateway.errors import GatewayError
from gateway.formats.ollama.window import DEFAULT_WINDOW, ModelWindow, model_window, window

log = logging.getLogger("gateway.routing")

Show = Callable[[], Awaitable[bytes]]  # the model's /api/show document, asked of its server


class ContextWindows:
    def __init__(self, monotonic: Callable[[], float], hold: float) -> None:
        self._monotonic = monotonic
        self._hold = hold
        self._known: dict[Target, ModelWindow] = {}
        self._asking: dict[Target, asyncio.Task[ModelWindow]] = {}
        self._held: dict[Target, tuple[int, float]] = {}  # the window last asked, and when

    def shown(self, target: Target, document: bytes) -> None:
        """Keep what an /api/show answer says of the model's window."""
        with contextlib.suppress(ValueError):
            self._known[target] = model_window(document)

    async def size(self, target: Target, need: int, show: Show) -> int | None:
        """The window to ask for a request that fills ``need`` tokens of the model (None: the
        model's own); ``show`` is asked only when the answer depends on it and it is not known."""
        now = self._monotonic()
        held, used = self._held.get(target, (0, float("-inf")))
        if now - used > self._hold:
            held = 0  # the model has been unloaded since: any window is a fresh load
        sized = 0
        if need > max(held, DEFAULT_WINDOW):
            known = self._known.get(target)
            sized = window(need, known if known is not None else await self._ask(target, show)) or 0
        chosen = max(sized, held)
        if not chosen:
            return None
        self._held[target] = (chosen, now)
        return chosen

    async def _ask(self, target: Target, show: Show) -> ModelWindow:
        task = self._asking.get(target)
        if task is None:
            task = self._asking[target] = asyncio.ensure_future(self._show(target, show))
            task.add_done_callback(lambda _: self._asking.pop(target, None))
        # Shielded: one request giving up does not take the answer from the others waiting.
        return await asyncio.shield(task)

    async def _show(self, target: Target, show: Show) -> ModelWindow:
        try:
            found = model_window(await show())
        except (GatewayError, ValueError) as exc:
            log.debug("%s/%s: no context length from /api/show (%s)", target.provider, target.upstream_model, exc)
            return ModelWindow()
        self._known[target] = found
        return found
