"""The Transport: a lean HTTP/1.1 client on asyncio protocols, with a keep-alive pool.

Why not aiohttp's client: a request through it costs about 70 µs of CPU here, this one about 15,
and the gateway makes one upstream request per client request. It does only what the gateway
needs — one request per connection at a time, Content-Length and chunked bodies, gzip/deflate,
TLS — and nothing it must not do:

- Redirects are never followed (a 3xx is handed back as it is): credentials would travel to the
  new host (SECURITY.md S25). No cookies are kept, so one account's cookies never reach another.
- Host names are re-checked after resolution, so a name that resolves to a link-local or metadata
  address is refused even if it looked harmless in the config (S26).
- Header values with line breaks are refused rather than sent (no header injection).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from gateway.errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnreachable
from gateway.redact import redact
from gateway.transport import UpstreamRequest
from gateway.transport.addresses import forbidden_address, parse_ip
from gateway.transport.wire import Body, Headers, framing, parse_head, request_head

_HIGH_WATER = 1 << 18  # buffered bytes at which reading from the socket pauses
_MAX_HEAD = 1 << 16
KEEP_IDLE = 15.0  # seconds a spare connection is kept; servers often close theirs after 30-75
_MAX_IDLE_PER_ORIGIN = 256


class _Connection(asyncio.Protocol):
    """One socket: bytes in a buffer, a waiter woken when more arrive or the peer goes away."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.ended = False  # the peer closed (or the socket failed)
        self.failure: BaseException | None = None
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        self.ended = True
        self.failure = exc
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def more(self) -> bool:
        """Wait until more bytes arrive; False when none will."""
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        if self.ended:
            return False
        self._waiter = self.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None
        return True

    def interrupt(self, exc: BaseException) -> None:
        """Fail the pending wait (a timeout)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    @property
    def reusable(self) -> bool:
        return not self.ended and not self.buf and self.transport is not None and not self.transport.is_closing()

    def abort(self) -> None:
        self.ended = True
        if self.transport is not None:
            self.transport.abort()


class _Watch:
    """A response's deadlines: the whole request (``total``) and the longest silence while
    waiting for the upstream (``read``)."""

    __slots__ = ("_conn", "_provider", "_read", "_watchman", "deadline", "waiting_since")

    def __init__(self, conn: _Connection, watchman: _Watchman, provider: str, read: float, deadline: float) -> None:
        self._conn = conn
        self._watchman = watchman
        self._provider = provider
        self._read = read
        self.deadline = deadline
        self.waiting_since = conn.loop.time()
        watchman.add(self)

    def check(self, now: float) -> None:
        if now >= self.deadline or now - self.waiting_since >= self._read:
            # Fails only a wait in progress; a later one is checked again on the next tick.
            self._conn.interrupt(UpstreamTimeout(f"provider {self._provider} timed out", provider=self._provider))

    def stop(self) -> None:
        self._watchman.discard(self)


class _Watchman:
    """Checks the deadlines of every response in flight ten times a second: one timer for all of
    them rather than one per request, which would cost more than the rest of the request's I/O."""

    TICK = 0.1

    def __init__(self) -> None:
        self._watches: set[_Watch] = set()
        self._handle: asyncio.TimerHandle | None = None

    def add(self, watch: _Watch) -> None:
        self._watches.add(watch)
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self.TICK, self._tick)

    def discard(self, watch: _Watch) -> None:
        self._watches.discard(watch)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for watch in list(self._watches):
            watch.check(now)
        self._handle = loop.call_later(self.TICK, self._tick) if self._watches else None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._watches.clear()


class _Response:
    __slots__ = ("_body", "_conn", "_decoder", "_pool", "_provider", "_reusable", "_watch", "headers", "status")

    def __init__(
        self,
        conn: _Connection,
        pool: _Pool,
        provider: str,
        status: int,
        headers: Headers,
        body: Body,
        watch: _Watch,
        reusable: bool,
    ) -> None:
        self._conn: _Connection | None = conn
        self._pool = pool
        self._provider = provider
        self.status = status
        self.headers: Mapping[str, str] = headers
        self._body = body
        self._watch = watch
        self._reusable = reusable
        encoding = headers.get("Content-Encoding", "identity").strip().lower()
        self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 32) if encoding in ("gzip", "x-gzip", "deflate") else None
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            self.close()
            raise UpstreamBadResponse(
                f"provider {provider} sent an unsupported Content-Encoding: {encoding}", provider=provider
            )
        if body.done:
            self._finish()

    def _too_large(self, limit: int) -> UpstreamBadResponse:
        self.close()
        return UpstreamBadResponse(
            f"provider {self._provider} sent a response larger than {limit} bytes", provider=self._provider
        )

    async def read(self, limit: int) -> bytes:
        length = self.headers.get("Content-Length")
        if self._decoder is None and length is not None and length.isdigit() and int(length) > limit:
            raise self._too_large(limit)
        body = bytearray()
        while chunk := await self.read_chunk():
            body += chunk
            if len(body) > limit:
                raise self._too_large(limit)
        return bytes(body)

    async def read_chunk(self) -> bytes:
        while (conn := self._conn) is not None:
            try:
                data = self._body.take()
            except ValueError as exc:
                self.close()
                raise UpstreamBadResponse(
                    f"provider {self._provider} sent an unusable response: {exc}", provider=self._provider
                ) from None
            if self._decoder is not None and data:
                data = self._decode(data)
            if self._body.done:
                if self._decoder is not None:
                    data += self._decoder.flush()
                self._finish()
                if data:
                    return data
                break
            if data:
                return data
            now = conn.loop.time()
            if now >= self._watch.deadline:
                self.close()
                raise UpstreamTimeout(f"provider {self._provider} timed out", provider=self._provider)
            self._watch.waiting_since = now
            try:
                more = await conn.more()
            except BaseException:
                self.close()
                raise
            if not more and self._body.ended_early():
                self.close()
                raise UpstreamBadResponse(f"provider {self._provider} broke off the response", provider=self._provider)
        return b""

    @property
    def finished(self) -> bool:
        return self._body.done

    def _decode(self, data: bytes) -> bytes:
        assert self._decoder is not None
        try:
            return self._decoder.decompress(data)
        except zlib.error:
            self.close()
            raise UpstreamBadResponse(
                f"provider {self._provider} sent a body that does not decompress", provider=self._provider
            ) from None

    def _finish(self) -> None:
        """The body is complete: the connection goes back to the pool if it can be reused."""
        conn, self._conn = self._conn, None
        if conn is not None:
            self._watch.stop()
            self._pool.give_back(conn, self._reusable and self._body.delimited)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._watch.stop()
            conn.abort()
            self._pool.give_back(conn, False)

    def release(self) -> None:
        """Let go of a response: a complete one's connection is already back in the pool, one
        not read to the end cannot be reused."""
        self.close()


class _Pool:
    """Spare keep-alive connections per origin, and a bound on connections in use."""

    def __init__(self, max_connections: int, keep_idle: float) -> None:
        self._keep_idle = keep_idle
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._slots = asyncio.Semaphore(max_connections)
        self._origin: dict[_Connection, tuple[str, str, int]] = {}
        self.in_use = 0
        self.watchman = _Watchman()
        self._sweep: asyncio.TimerHandle | None = None

    async def acquire(self) -> None:
        await self._slots.acquire()
        self.in_use += 1

    def _free(self) -> None:
        self.in_use -= 1
        self._slots.release()

    def spare(self, origin: tuple[str, str, int], now: float) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if conn.reusable and now - conn.idle_since < self._keep_idle:
                return conn
            conn.abort()
            self._origin.pop(conn, None)
        return None

    def track(self, conn: _Connection, origin: tuple[str, str, int]) -> None:
        self._origin[conn] = origin

    def give_back(self, conn: _Connection, reusable: bool) -> None:
        self._free()
        origin = self._origin.get(conn)
        idle = self._idle.setdefault(origin, []) if origin is not None else None
        if reusable and idle is not None and conn.reusable and len(idle) < _MAX_IDLE_PER_ORIGIN:
            conn.idle_since = conn.loop.time()
            idle.append(conn)
            if self._sweep is None:
                self._sweep = conn.loop.call_later(self._keep_idle, self._close_stale)
            return
        self._origin.pop(conn, None)
        conn.abort()

    def _close_stale(self) -> None:
        """Close spare connections kept too long or closed by their server (one timer for all,
        running only while there are spare connections), so their sockets do not linger."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        for origin in list(self._idle):
            fresh = []
            for conn in self._idle[origin]:
                if conn.reusable and now - conn.idle_since < self._keep_idle:
                    fresh.append(conn)
                else:
                    conn.abort()
                    self._origin.pop(conn, None)
            if fresh:
                self._idle[origin] = fresh
            else:
                del self._idle[origin]
        self._sweep = loop.call_later(self._keep_idle, self._close_stale) if self._idle else None

    def unused(self, conn: _Connection | None) -> None:
        """A slot taken for a request that never got as far as a response."""
        self._free()
        if conn is not None:
            self._origin.pop(conn, None)
            conn.abort()

    def close(self) -> None:
        self.watchman.close()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for idle in self._idle.values():
            for conn in idle:
                conn.abort()
        self._idle.clear()
        self._origin.clear()


Resolver = Callable[[str, int], Awaitable[list[tuple[Any, ...]]]]
"""host, port → ``getaddrinfo``-shaped tuples (family, type, proto, canonname, sockaddr)."""


class Http1Transport:
    """Upstream HTTP for the whole gateway: one pool, created on first use inside the running loop.

    ``tls``: the context for https upstreams (the system's trust store by default; tests hand in
    one that trusts their own certificate). ``resolve``: host, port → addresses (the loop's
    ``getaddrinfo`` by default)."""

    def __init__(
        self,
        *,
        max_connections: int = 1024,
        keep_idle: float = KEEP_IDLE,
        tls: ssl.SSLContext | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        self._max_connections = max_connections
        self._keep_idle = keep_idle
        self._tls = tls
        self._resolve = resolve
        self._pool: _Pool | None = None
        self._origins: dict[str, tuple[tuple[str, str, int], str, str]] = {}

    def _split(self, url: str) -> tuple[tuple[str, str, int], str, str]:
        """(origin, Host header, request target) of a URL — cached, as providers reuse theirs."""
        base, _, query = url.partition("?")
        cached = self._origins.get(base)
        if cached is None:
            parts = urlsplit(base)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"not an http(s) URL: {redact(url)[:80]}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host_header = parts.netloc.rpartition("@")[2]
            cached = ((parts.scheme, parts.hostname, port), host_header, parts.path or "/")
            if len(self._origins) < 4096:
                self._origins[base] = cached
        origin, host_header, path = cached
        return origin, host_header, f"{path}?{query}" if query else path

    async def send(self, request: UpstreamRequest) -> _Response:
        pool = self._pool or self._open()
        loop = asyncio.get_running_loop()
        provider = request.provider
        t = request.timeouts
        deadline = loop.time() + t.total
        try:
            origin, host_header, target = self._split(request.url)
            head = request_head(request, host_header, target)
        except ValueError as exc:
            raise UpstreamBadResponse(f"cannot call provider {provider}: {exc}", provider=provider) from None
        await pool.acquire()
        conn = pool.spare(origin, loop.time())
        try:
            if conn is None:
                conn = await self._connect(origin, min(t.connect, t.total), provider)
                pool.track(conn, origin)
            assert conn.transport is not None
            body_bytes = request.body or b""
            if len(body_bytes) < 65536:  # one write, one packet for the usual small request
                conn.transport.write(head + body_bytes)
            else:
                conn.transport.write(head)
                conn.transport.write(body_bytes)
            watch = _Watch(conn, pool.watchman, provider, t.read, deadline)
            try:
                status, keep, headers = await self._head(conn, provider)
                body = framing(conn.buf, request.method, status, headers)
            except BaseException:
                watch.stop()
                raise
        except BaseException as exc:
            pool.unused(conn)
            if isinstance(exc, ValueError):
                raise UpstreamBadResponse(
                    f"provider {provider} sent an unusable response: {exc}", provider=provider
                ) from None
            raise
        return _Response(conn, pool, provider, status, headers, body, watch, keep)

    @property
    def connections_in_use(self) -> int:
        """Requests holding a connection now (their response not yet read to the end or closed)."""
        return self._pool.in_use if self._pool is not None else 0

    def _open(self) -> _Pool:
        self._pool = _Pool(self._max_connections, self._keep_idle)
        return self._pool

    async def _head(self, conn: _Connection, provider: str) -> tuple[int, bool, Headers]:
        """The response head, skipping interim 1xx answers."""
        while True:
            end = conn.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(conn.buf) > _MAX_HEAD:
                    raise ValueError("response head too large")
                if not await conn.more():
                    detail = redact(str(conn.failure)) if conn.failure else "the connection closed"
                    raise UpstreamBadResponse(f"provider {provider} sent no response: {detail}", provider=provider)
                continue
            status, keep, pairs = parse_head(bytes(conn.buf[:end]))
            del conn.buf[: end + 4]
            if 100 <= status < 200:
                continue
            return status, keep, Headers(pairs)

    async def _connect(self, origin: tuple[str, str, int], timeout: float, provider: str) -> _Connection:
        scheme, host, port = origin
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._addresses(host, port)
                failure: BaseException | None = None
                for family, address in addresses:
                    try:
                        _, conn = await asyncio.get_running_loop().create_connection(
                            _Connection,
                            host=address,
                            port=port,
                            family=family,
                            ssl=(self._tls or _default_tls()) if scheme == "https" else None,
                            server_hostname=host if scheme == "https" else None,
                        )
                        return conn
                    except OSError as exc:  # ssl.SSLError is one too
                        failure = exc
                assert failure is not None
                try:
                    raise failure
                finally:
                    failure = None  # its traceback holds this frame: no cycle through a local
        except TimeoutError:
            raise UpstreamTimeout(f"provider {provider} timed out connecting", provider=provider) from None
        except OSError as exc:
            detail = redact(str(exc) or type(exc).__name__)
            raise UpstreamUnreachable(f"cannot reach provider {provider}: {detail}", provider=provider) from None

    async def _addresses(self, host: str, port: int) -> list[tuple[int, str]]:
        """Where ``host`` resolves, minus addresses an upstream may not use (S26)."""
        if self._resolve is not None:
            infos = await self._resolve(host, port)
        else:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        allowed: list[tuple[int, str]] = []
        for family, _, _, _, sockaddr in infos:
            address = str(sockaddr[0])
            ip = parse_ip(address)
            if (ip is None or forbidden_address(ip) is None) and (family, address) not in allowed:
                allowed.append((family, address))
        if not allowed:
            raise OSError(f"{host} resolves only to addresses an upstream may not use")
        return allowed

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


_TLS: list[ssl.SSLContext] = []


def _default_tls() -> ssl.SSLContext:
    """The system trust store's context, made once (loading it takes milliseconds)."""
    if not _TLS:
        _TLS.append(ssl.create_default_context())
    return _TLS[0]
