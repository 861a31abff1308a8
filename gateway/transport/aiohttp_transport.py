"""The Transport over one pooled aiohttp client session.

Redirects are never followed: aiohttp drops only ``Authorization`` on a cross-origin redirect, so
``x-api-key``, ``api-key`` and editor headers would travel to the new host (SECURITY.md S25).
Host names are re-checked after resolution, so a name that resolves to a link-local or metadata
address is refused even if it looked harmless in the config (S26).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Mapping
from typing import Any

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


class _Response:
    __slots__ = ("_provider", "_resp", "headers", "status")

    def __init__(self, resp: aiohttp.ClientResponse, provider: str) -> None:
        self._resp = resp
        self._provider = provider
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers

    async def read(self, limit: int) -> bytes:
        length = self._resp.content_length
        if length is not None and length > limit:
            self.close()
            raise UpstreamBadResponse(
                f"provider {self._provider} sent a response larger than {limit} bytes",
                provider=self._provider,
            )
        if length is not None:
            with _mapped_errors(self._provider, self.close):
                return await self._resp.read()
        body = bytearray()
        async for chunk in self.chunks():
            body += chunk
            if len(body) > limit:
                self.close()
                raise UpstreamBadResponse(
                    f"provider {self._provider} sent a response larger than {limit} bytes",
                    provider=self._provider,
                )
        self.release()
        return bytes(body)

    async def chunks(self) -> AsyncIterator[bytes]:
        with _mapped_errors(self._provider, self.close):
            async for chunk in self._resp.content.iter_any():
                yield chunk

    def close(self) -> None:
        self._resp.close()

    def release(self) -> None:
        self._resp.release()


class _mapped_errors:
    """Turn aiohttp's exceptions into the gateway's, closing the response on the way out."""

    __slots__ = ("_on_error", "_provider")

    def __init__(self, provider: str, on_error: Any = None) -> None:
        self._provider = provider
        self._on_error = on_error

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
            return False
        if self._on_error is not None:
            self._on_error()
        provider = self._provider
        detail = redact(str(exc) or type(exc).__name__)
        if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            raise UpstreamTimeout(f"provider {provider} timed out", provider=provider) from None
        if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientSSLError | OSError):
            raise UpstreamUnreachable(
                f"cannot reach provider {provider}: {detail}", provider=provider
            ) from None
        if isinstance(exc, aiohttp.ClientPayloadError):
            raise UpstreamBadResponse(
                f"provider {provider} broke off the response: {detail}", provider=provider
            ) from None
        raise UpstreamBadResponse(
            f"provider {provider} sent an unusable response: {detail}", provider=provider
        ) from None


class AiohttpTransport:
    """One pooled session, created on first use inside the running loop."""

    def __init__(self, *, user_agent: str, max_connections: int = 1024) -> None:
        self._user_agent = user_agent
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            ttl_dns_cache=300,
            resolver=_GuardedResolver(aiohttp.ThreadedResolver()),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self._user_agent},
            skip_auto_headers=("Content-Type",),
        )
        return self._session

    async def send(self, request: UpstreamRequest) -> _Response:
        session = self._session or self._open()
        t = request.timeouts
        timeout = aiohttp.ClientTimeout(total=t.total, sock_connect=t.connect, sock_read=t.read)
        with _mapped_errors(request.provider):
            resp = await session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body,
                allow_redirects=False,
                timeout=timeout,
            )
        return _Response(resp, request.provider)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
