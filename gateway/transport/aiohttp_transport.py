"""The Transport over one pooled aiohttp client session.

Redirects are never followed: aiohttp drops only ``Authorization`` on a cross-origin redirect, so
``x-api-key``, ``api-key`` and editor headers would travel to the new host (SECURITY.md S25).
Host names are re-checked after resolution, so a name that resolves to a link-local or metadata
address is refused even if it looked harmless in the config (S26).
"""

from __future__ import annotations

import asyncio
import functools
import socket
from collections.abc import Mapping

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from gateway.addresses import forbidden_address, parse_ip
from gateway.errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnreachable
from gateway.redact import redact
from gateway.transport import UpstreamRequest


class _GuardedResolver(AbstractResolver):
    def __init__(self, inner: AbstractResolver) -> None:
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = []
        for result in results:
            addr = parse_ip(result["host"])
            if addr is None or forbidden_address(addr) is None:
                allowed.append(result)
        if not allowed:
            raise OSError(f"{host} resolves only to addresses an upstream may not use")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def _translate(exc: BaseException, provider: str) -> BaseException:
    """aiohttp's exception as the gateway's, or the exception itself when it is not a network one."""
    if not isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return exc
    detail = redact(str(exc) or type(exc).__name__)
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return UpstreamTimeout(f"provider {provider} timed out", provider=provider)
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientSSLError | OSError):
        return UpstreamUnreachable(f"cannot reach provider {provider}: {detail}", provider=provider)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return UpstreamBadResponse(f"provider {provider} broke off the response: {detail}", provider=provider)
    return UpstreamBadResponse(f"provider {provider} sent an unusable response: {detail}", provider=provider)


class _Response:
    __slots__ = ("_provider", "_resp", "headers", "status")

    def __init__(self, resp: aiohttp.ClientResponse, provider: str) -> None:
        self._resp = resp
        self._provider = provider
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers

    def _too_large(self, limit: int) -> UpstreamBadResponse:
        self.close()
        return UpstreamBadResponse(
            f"provider {self._provider} sent a response larger than {limit} bytes", provider=self._provider
        )

    async def read(self, limit: int) -> bytes:
        length = self._resp.content_length
        if length is not None:
            if length > limit:
                raise self._too_large(limit)
            try:
                return await self._resp.read()
            except BaseException as exc:
                self.close()
                raise _translate(exc, self._provider) from None
        body = bytearray()
        while chunk := await self.read_chunk():
            body += chunk
            if len(body) > limit:
                raise self._too_large(limit)
        self.release()
        return bytes(body)

    async def read_chunk(self) -> bytes:
        try:
            return await self._resp.content.readany()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self.close()
            raise _translate(exc, self._provider) from None

    def close(self) -> None:
        self._resp.close()

    def release(self) -> None:
        self._resp.release()


@functools.lru_cache(maxsize=64)
def _client_timeout(connect: float, read: float, total: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)


class AiohttpTransport:
    """One pooled session, created on first use inside the running loop."""

    def __init__(self, *, max_connections: int = 1024) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            ttl_dns_cache=300,
            resolver=_GuardedResolver(aiohttp.ThreadedResolver()),
        )
        # No session-wide headers: aiohttp would merge them into every request. Each request
        # carries its own, User-Agent included.
        self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def send(self, request: UpstreamRequest) -> _Response:
        session = self._session or self._open()
        t = request.timeouts
        timeout = _client_timeout(t.connect, t.read, t.total)
        try:
            resp = await session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body,
                allow_redirects=False,
                timeout=timeout,
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise _translate(exc, request.provider) from None
        return _Response(resp, request.provider)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
