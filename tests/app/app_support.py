"""Helpers for the app's tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from app.application import Application

T = TypeVar("T")
WAIT_MS = 15_000
KEY = "sk-app-test-upstream-key-01"  # what the fake upstreams here take
MakeApp = Callable[..., Application]


class LoopThread:
    """An asyncio loop on a thread, for the fakes (the Qt thread has none of its own here)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fakes", daemon=True)
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(30)

    def close(self) -> None:
        async def settle() -> None:  # connections the fakes still hold end before the loop does
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(settle())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
