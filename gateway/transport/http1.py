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
- Through a proxy when the ``ProxyPlan`` says so (decided once per origin): ``tunnel.py``. When
  it names an unusable one (the environment's), each connection is refused saying so.

Here: connecting, writing a request and reading its response's head; the sockets and their pool
are in ``pool.py``, reading the body within its deadlines in ``response.py``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from gateway.errors import Fix, UpstreamBadResponse, UpstreamTimeout, UpstreamUnreachable, reason_of
from gateway.redact import redact
from gateway.transport import UpstreamRequest
from gateway.transport.addresses import forbidden_address, parse_ip
from gateway.transport.pool import KEEP_IDLE, Connection, Origin, Pool
from gateway.transport.proxies import Chosen, Proxy, ProxyPlan, UnusableProxy
from gateway.transport.response import Http1Response, Watch, Watchman
from gateway.transport.trust import tls_context
from gateway.transport.tunnel import ProxyFailure, basic_credentials, connect_via
from gateway.transport.wire import Headers, framing, parse_head, request_head

_MAX_HEAD = 1 << 16


Resolver = Callable[[str, int], Awaitable[list[tuple[Any, ...]]]]
"""host, port → ``getaddrinfo``-shaped tuples (family, type, proto, canonname, sockaddr)."""


class Http1Transport:
    """Upstream HTTP for the whole gateway: one pool, created on first use inside the running loop.

    ``tls``: the context for https upstreams (the system's trust store by default; tests hand in
    one that trusts their own certificate). ``resolve``: host, port → addresses (the loop's
    ``getaddrinfo`` by default). ``proxies``: which proxy, if any, carries the calls to each
    upstream (none by default)."""

    _tls: ssl.SSLContext
    _plan: ProxyPlan

    def __init__(
        self,
        *,
        max_connections: int = 1024,
        keep_idle: float = KEEP_IDLE,
        tls: ssl.SSLContext | None = None,
        resolve: Resolver | None = None,
        proxies: ProxyPlan | None = None,
    ) -> None:
        self._max_connections = max_connections
        self._keep_idle = keep_idle
        self._resolve = resolve
        self._pool: Pool | None = None
        self._watchman = Watchman()  # touches the loop only once a response is in flight
        self._origins: dict[str, tuple[Origin, str, str, str | None]] = {}
        self.follow(tls, proxies)

    def follow(self, tls: ssl.SSLContext | None, proxies: ProxyPlan | None) -> None:
        """The trust and proxies to use from now on (at start, and when settings are applied): the
        spare connections, made the old way, are closed; one in flight finishes as it began and is
        not kept. The system's trust is made here, not at a first connection on the event loop. The
        same trust and proxies again (an apply that changed other settings) keep the connections."""
        tls, plan = tls if tls is not None else tls_context(), proxies or ProxyPlan()
        if self._pool is not None and tls is self._tls and plan == self._plan:
            return
        self._tls, self._plan = tls, plan
        self._proxies = proxies if proxies is not None and proxies.anywhere else None  # None: all direct, none asked
        self._by_party = self._proxies is not None and self._proxies.by_party
        self._origins.clear()
        if self._pool is not None:
            self._pool.close_spare()

    def _split(self, url: str, party: str, account: str) -> tuple[Origin, str, str, str | None]:
        """(origin and proxy, Host header, request target, Proxy-Authorization) of a URL — cached, as
        providers reuse theirs. Through an HTTP proxy an http upstream's target is the whole URL."""
        base, _, query = url.partition("?")
        key = f"{account} {party} {base}" if self._by_party else base
        cached = self._origins.get(key)
        if cached is None:
            parts = urlsplit(base)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"not an http(s) URL: {redact(url)[:80]}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host_header = parts.netloc.rpartition("@")[2]
            chosen = self._proxies.choose(parts.scheme, parts.hostname, port, party, account) if self._proxies else None
            proxy = chosen.proxy if chosen is not None else None
            path, auth = parts.path or "/", None
            if isinstance(proxy, Proxy) and not proxy.socks and parts.scheme == "http":
                path, auth = f"http://{host_header}{path}", basic_credentials(proxy)
            cached = ((parts.scheme, parts.hostname, port, proxy), host_header, path, auth)
            if len(self._origins) < 4096:
                self._origins[key] = cached
        origin, host_header, path, auth = cached
        return origin, host_header, f"{path}?{query}" if query else path, auth

    async def send(self, request: UpstreamRequest) -> Http1Response:
        pool = self._pool or self._open()
        loop = asyncio.get_running_loop()
        provider = request.provider
        t = request.timeouts
        deadline = loop.time() + t.total
        try:
            origin, host_header, target, proxy_auth = self._split(request.url, provider, request.account)
            head = request_head(request, host_header, target, proxy_auth)
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
            watch = Watch(conn, self._watchman, provider, t.read, deadline)
            try:
                status, keep, headers = await self._head(conn, provider)
                if status == 407 and isinstance(origin[3], Proxy):  # the forwarding proxy's refusal, not the provider's
                    raise _proxy_wants_credentials(origin[3], provider)
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
        return Http1Response(conn, pool, provider, status, headers, body, watch, keep)

    def proxy_in_use(self) -> Chosen:
        """The proxy an https provider without its own setting goes through, and what said so."""
        return self._plan.in_use()

    def unusable_proxies(self) -> tuple[UnusableProxy, ...]:
        """The environment's proxies that cannot be used (each call they would carry is refused)."""
        return self._plan.unusable

    @property
    def connections_in_use(self) -> int:
        """Requests holding a connection now (their response not yet read to the end or closed)."""
        return self._pool.in_use if self._pool is not None else 0

    def _open(self) -> Pool:
        self._pool = Pool(self._max_connections, self._keep_idle)
        return self._pool

    async def _head(self, conn: Connection, provider: str) -> tuple[int, bool, Headers]:
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

    async def _connect(self, origin: Origin, timeout: float, provider: str) -> Connection:
        scheme, host, port, proxy = origin
        if isinstance(proxy, UnusableProxy):
            raise UpstreamUnreachable(
                f'{proxy.problem}; set a proxy in Settings → Network, or "direct" (for provider {provider})',
                provider=provider,
            )
        if proxy is not None:
            return await self._connect_via(proxy, scheme, host, port, timeout, provider)
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._addresses(host, port)
                failure: BaseException | None = None
                for family, address in addresses:
                    try:
                        _, conn = await asyncio.get_running_loop().create_connection(
                            Connection,
                            host=address,
                            port=port,
                            family=family,
                            ssl=self._tls if scheme == "https" else None,
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
            raise _unreachable(provider, host, exc) from None

    async def _connect_via(
        self, proxy: Proxy, scheme: str, host: str, port: int, timeout: float, provider: str
    ) -> Connection:
        """Through ``proxy``; its own failures name it (not the provider), the upstream's name it."""
        try:
            async with asyncio.timeout(timeout):
                return await connect_via(proxy, host, port, self._tls if scheme == "https" else None)
        except TimeoutError:
            raise UpstreamTimeout(
                f"provider {provider} timed out connecting through the proxy at {proxy.where}", provider=provider
            ) from None
        except ProxyFailure as exc:
            raise UpstreamUnreachable(
                f"{exc.message} (for provider {provider})",
                provider=provider,
                fix=Fix("check_connection", proxy.where),
                detail=exc.detail,
            ) from None
        except OSError as exc:  # the proxy carried the call: the upstream (or the tunnel) failed it
            raise _unreachable(provider, host, exc, proxy) from None

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
        self._watchman.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _unreachable(provider: str, host: str, exc: OSError, proxy: Proxy | None = None) -> UpstreamUnreachable:
    """A connection to ``host`` that failed, directly or through ``proxy``: an untrusted certificate
    points at the certificate to trust, anything else at the connection."""
    via, secrets = (f" through the proxy at {proxy.where}", (proxy.user, proxy.password)) if proxy else ("", ())
    untrusted = isinstance(exc, ssl.SSLCertVerificationError)
    return UpstreamUnreachable(
        f"cannot reach provider {provider} at {host}{via}: {reason_of(exc)}",
        provider=provider,
        fix=Fix("trust_certificate" if untrusted else "check_connection", host),
        detail=redact(str(exc) or type(exc).__name__, *secrets),
    )


def _proxy_wants_credentials(proxy: Proxy, provider: str) -> UpstreamUnreachable:
    return UpstreamUnreachable(
        f"the proxy at {proxy.where} would not forward the request: it needs a user name and password"
        f" (for provider {provider})",
        provider=provider,
        fix=Fix("check_connection", proxy.where),
    )
