"""The only door to upstream HTTP.

Everything that talks to a provider receives a ``Transport``; tests hand in a fake one or point
the real one at fake servers on loopback. Failures come out as ``gateway.errors.Upstream*``
exceptions already attributed to the provider, with secrets redacted from their messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 10.0
    read: float = 300.0  # to the first byte, and the longest silence between two reads
    total: float = 1800.0


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    provider: str  # for error attribution only
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None
    timeouts: Timeouts = Timeouts()
    account: str = ""  # the signed-in account the call is made for (its label): its own proxy, if it has one


class UpstreamResponse(Protocol):
    status: int
    headers: Mapping[str, str]

    async def read(self, limit: int) -> bytes:
        """The whole body, or UpstreamBadResponse when it exceeds ``limit`` bytes."""
        ...

    async def read_chunk(self) -> bytes:
        """The next body bytes as they arrive; ``b""`` once the body is complete."""
        ...

    @property
    def finished(self) -> bool:
        """The whole body has been read: nothing more will come."""
        ...

    def close(self) -> None:
        """Abort: drop the connection now (the upstream sees it close)."""
        ...

    def release(self) -> None:
        """Done reading a complete body: the connection may be reused."""
        ...


class Transport(Protocol):
    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...

    async def aclose(self) -> None: ...
