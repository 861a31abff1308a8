"""A clock the test drives: ``sleep`` waits until the test advances time past its deadline."""

from __future__ import annotations

import asyncio


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self._mono = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._mono + seconds, future))
        await future

    @property
    def sleeping(self) -> list[float]:
        """How long each pending sleeper still has to wait."""
        return [deadline - self._mono for deadline, f in self._sleepers if not f.done()]

    async def advance(self, seconds: float) -> None:
        self._mono += seconds
        self.now += seconds
        for deadline, future in self._sleepers:
            if deadline <= self._mono and not future.done():
                future.set_result(None)
        self._sleepers = [(d, f) for d, f in self._sleepers if not f.done()]
        for _ in range(20):  # let woken tasks run to their next await
            await asyncio.sleep(0)
