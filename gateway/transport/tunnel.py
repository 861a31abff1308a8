"""Connections through a proxy: an HTTP ``CONNECT`` tunnel (then TLS to the upstream over it, its
name for SNI and verification), a plain connection to an HTTP proxy that forwards absolute-form
requests for http upstreams, or SOCKS5 with the name resolved by the proxy (python-socks).

What goes wrong with the proxy itself is a ``ProxyFailure`` naming the proxy (host:port only, never
its credentials), so a person looks at the proxy and not at the provider.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl

from python_socks import ProxyError, ProxyType
from python_socks.async_.asyncio import Proxy as SocksClient

from gateway.errors import reason_of
from gateway.redact import redact
from gateway.transport.pool import Connection
from gateway.transport.proxies import Proxy
from gateway.transport.wire import parse_head

_MAX_HEAD = 1 << 14


class ProxyFailure(Exception):
    """The proxy could not be reached or would not carry the connection; the message is safe to show."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


def basic_credentials(proxy: Proxy) -> str | None:
    """The ``Proxy-Authorization`` value for a proxy with a user name, else None."""
    if not proxy.user:
        return None
    return "Basic " + base64.b64encode(f"{proxy.user}:{proxy.password}".encode()).decode("ascii")


async def connect_via(proxy: Proxy, host: str, port: int, tls: ssl.SSLContext | None) -> Connection:
    """A connection to ``host:port`` through ``proxy``, inside TLS when ``tls`` is given. For an
    http upstream through an HTTP proxy (``tls`` None): a connection to the proxy itself."""
    loop = asyncio.get_running_loop()
    if proxy.socks:
        sock = await _socks(proxy, host, port)
        _, conn = await loop.create_connection(Connection, sock=sock, ssl=tls, server_hostname=host if tls else None)
        return conn
    try:
        _, conn = await loop.create_connection(Connection, proxy.host, proxy.port)
    except OSError as exc:
        raise _unreachable(proxy, exc) from None
    if tls is None:
        return conn
    try:
        await _tunnel(conn, proxy, host, port)
        assert conn.transport is not None
        wrapped = await loop.start_tls(conn.transport, conn, tls, server_hostname=host)
    except BaseException:
        conn.abort()
        raise
    assert wrapped is not None
    conn.transport = wrapped
    return conn


async def _tunnel(conn: Connection, proxy: Proxy, host: str, port: int) -> None:
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if (credentials := basic_credentials(proxy)) is not None:
        lines.append(f"Proxy-Authorization: {credentials}")
    assert conn.transport is not None
    conn.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    while (end := conn.buf.find(b"\r\n\r\n")) < 0:
        if len(conn.buf) > _MAX_HEAD or not await conn.more():
            raise ProxyFailure(f"the proxy at {proxy.where} closed the connection instead of opening a tunnel")
    try:
        status, _, _ = parse_head(bytes(conn.buf[:end]))
    except ValueError:
        raise ProxyFailure(f"the proxy at {proxy.where} did not answer as an HTTP proxy") from None
    status_line = bytes(conn.buf[: conn.buf.find(b"\r\n")]).decode("latin-1").partition(" ")[2][:80]
    reason = "".join(c for c in status_line if c.isprintable())  # the proxy's words, shown: no control bytes
    del conn.buf[: end + 4]
    if not 200 <= status < 300:
        said = "it needs a user name and password" if status == 407 else f"it answered {reason}"
        raise ProxyFailure(f"the proxy at {proxy.where} would not connect to {target}: {said}")
    if conn.buf:
        raise ProxyFailure(f"the proxy at {proxy.where} sent more than its answer to the tunnel request")


async def _socks(proxy: Proxy, host: str, port: int) -> socket.socket:
    client = SocksClient(
        ProxyType.SOCKS5, proxy.host, proxy.port, proxy.user or None, proxy.password or None, rdns=True
    )
    try:
        return await client.connect(dest_host=host, dest_port=port)
    except ProxyError as exc:  # it answered, and refused (or closed the connection midway: no words)
        said = redact(str(exc), proxy.user, proxy.password) or "it closed the connection"
        raise ProxyFailure(f"the proxy at {proxy.where} would not connect to {host}:{port}: {said}") from None
    except OSError as exc:  # python-socks' ProxyConnectionError and ProxyTimeoutError are ones too
        if isinstance(exc, TimeoutError):
            raise
        # ProxyConnectionError carries the errno but not the type ("refused") its cause has.
        raise _unreachable(proxy, exc.__cause__ if isinstance(exc.__cause__, OSError) else exc) from None


def _unreachable(proxy: Proxy, exc: OSError) -> ProxyFailure:
    detail = redact(str(exc) or type(exc).__name__, proxy.user, proxy.password)
    return ProxyFailure(f"cannot reach the proxy at {proxy.where}: {reason_of(exc)}", detail)
