"""An in-process Transport: a handler function answers each request (no sockets)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from gateway.errors import UpstreamUnreachable
from gateway.transport import UpstreamRequest


class CannedResponse:
    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers: Mapping[str, str] = {"Content-Type": "application/json", **(headers or {})}
        self._body = body
        self.closed = False

    async def read(self, limit: int) -> bytes:
        return self._body

    async def read_chunk(self) -> bytes:
        body, self._body = self._body, b""
        return body

    @property
    def finished(self) -> bool:
        return not self._body

    def close(self) -> None:
        self.closed = True

    def release(self) -> None:
        pass


Handler = Callable[[UpstreamRequest], Awaitable[CannedResponse]]


class FakeTransport:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sent: list[UpstreamRequest] = []

    async def send(self, request: UpstreamRequest) -> CannedResponse:
        self.sent.append(request)
        return await self.handler(request)

    async def aclose(self) -> None:
        pass


def unreachable(provider: str) -> UpstreamUnreachable:
    return UpstreamUnreachable(f"cannot reach provider {provider}: connection refused", provider=provider)
