"""The window asked of an Ollama model: its /api/show asked once and only when needed, and the
window held while the model stays loaded."""

from __future__ import annotations

import asyncio
import json

from gateway.core.models import Target
from gateway.errors import UpstreamUnreachable
from gateway.routing.context_windows import ContextWindows

MODEL = Target("ollama", "qwen3:8b")
HOLD = 300.0
SHOW = json.dumps({"model_info": {"general.architecture": "qwen3", "qwen3.context_length": 40960}}).encode()


class Server:
    def __init__(self) -> None:
        self.shows = 0
        self.down = False

    async def show(self) -> bytes:
        self.shows += 1
        await asyncio.sleep(0)
        if self.down:
            raise UpstreamUnreachable("connection refused", provider="ollama")
        return SHOW


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


async def test_the_show_is_asked_once_and_only_for_a_long_request() -> None:
    server, windows = Server(), ContextWindows(Clock().monotonic, HOLD)
    assert await windows.size(MODEL, 3000, server.show) is None
    assert server.shows == 0
    sizes = await asyncio.gather(*(windows.size(MODEL, 50_000, server.show) for _ in range(3)))
    assert sizes == [40960, 40960, 40960] and server.shows == 1


async def test_a_show_a_client_asked_for_is_enough() -> None:
    server, windows = Server(), ContextWindows(Clock().monotonic, HOLD)
    windows.shown(MODEL, SHOW)
    assert await windows.size(MODEL, 50_000, server.show) == 40960
    assert server.shows == 0


async def test_a_failed_show_leaves_the_window_uncapped_and_is_asked_again() -> None:
    clock, server = Clock(), Server()
    windows = ContextWindows(clock.monotonic, HOLD)
    server.down = True
    assert await windows.size(MODEL, 50_000, server.show) == 65536  # the server caps it itself
    server.down = False
    clock.now += HOLD + 1
    assert await windows.size(MODEL, 50_000, server.show) == 40960
    assert server.shows == 2


async def test_the_window_is_held_while_the_model_stays_loaded() -> None:
    clock, server = Clock(), Server()
    windows = ContextWindows(clock.monotonic, HOLD)
    assert await windows.size(MODEL, 20_000, server.show) == 32768
    clock.now += HOLD - 1
    assert await windows.size(MODEL, 500, server.show) == 32768  # no reload for a short request
    clock.now += HOLD - 1
    assert await windows.size(MODEL, 10_000, server.show) == 32768
    clock.now += HOLD + 1  # unloaded since: a fresh load at any window
    assert await windows.size(MODEL, 500, server.show) is None
    assert await windows.size(MODEL, 10_000, server.show) == 16384
