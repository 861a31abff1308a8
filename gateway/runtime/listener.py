"""Where the gateway listens: one aiohttp runner (its connections, their cap and deadlines) and
the site that accepts new ones. ``move`` takes it to another address without dropping the
process or a connection: the new site is bound before the old one closes (or just after, when
the two cannot be bound at once: the same port from loopback to every interface), and when the
new address cannot be had the old one listens on.

Connections already open stay with the runner wherever they came in, so a request in flight
finishes; an idle one is closed by its keep-alive deadline as usual.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable
from typing import Any

from aiohttp import web

from gateway.api.connections import CappedServer, ConnectionCap, connection_cap, limit_body_time
from gateway.api.router import Handler
from gateway.config.settings import ServerSettings
from gateway.errors import Fix, Fixable
from gateway.runtime.tuning import raise_descriptor_limit

_ADDRESS_IN_USE = {errno.EADDRINUSE, 10048}  # 10048: WSAEADDRINUSE on Windows


class ListenError(Fixable):
    """The gateway cannot start or listen where it was asked to; the message says why in words,
    ``fix`` what would help (another port, a client key) and ``detail`` the system's own text."""


class Listener:
    def __init__(self, handler: Handler, server: ServerSettings, loopback: Callable[[str], bool]) -> None:
        """``server``: the connection rules at the start; ``header_timeout`` and ``shutdown_grace``
        hold until the next start, the others follow ``follow``."""
        self._descriptors = raise_descriptor_limit()
        self._cap = ConnectionCap(
            connection_cap(server.max_connections, self._descriptors), server.max_connections_per_peer, loopback
        )
        self._max_body, self._body_timeout = server.max_body_bytes, server.body_timeout
        self._runner = web.ServerRunner(
            CappedServer(
                handler,
                cap=self._cap,
                request_factory=self._new_request,
                keepalive_timeout=server.header_timeout,  # the deadline for a request's head: api/connections.py
                handler_cancellation=True,  # a client that hangs up cancels its upstream call
                access_log=None,
                auto_decompress=False,  # bounded inflating is done in api/body.py
            ),
            shutdown_timeout=server.shutdown_grace,
        )
        self._site: web.TCPSite | None = None
        self._host = server.host
        self.port: int | None = None
        self._loop = asyncio.get_running_loop()

    def _new_request(self, message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> web.BaseRequest:
        if not payload.is_eof():  # most bodies come whole with their head: no timer for them
            limit_body_time(payload, self._body_timeout, self._loop)
        return web.BaseRequest(message, payload, protocol, writer, task, self._loop, client_max_size=self._max_body)

    def follow(self, server: ServerSettings) -> None:
        """New connection rules, for the next connection and the next request's body."""
        self._cap.resize(connection_cap(server.max_connections, self._descriptors), server.max_connections_per_peer)
        self._max_body, self._body_timeout = server.max_body_bytes, server.body_timeout

    async def open(self, host: str, port: int) -> int:
        """Start listening; the port bound (``port`` may be 0: any free one)."""
        await self._runner.setup()
        try:
            self._site = await self._bind(host, port)
        except OSError as exc:
            await self._runner.cleanup()
            raise _listen_failure(host, port, exc) from None
        self._host = host
        return self._bound()

    async def move(self, host: str, port: int) -> int:
        """Listen at ``host:port`` instead; the port bound. ``ListenError`` (still listening where
        it was) when that address cannot be had."""
        old, old_host, old_port = self._site, self._host, self.port
        assert old is not None and old_port is not None, "move() before open()"
        try:
            site = await self._bind(host, port)
        except OSError as exc:
            if exc.errno not in _ADDRESS_IN_USE or port != old_port:
                raise _listen_failure(host, port, exc) from None
            await old.stop()  # the same port, on an address that overlaps the old one
            try:
                site = await self._bind(host, port)
            except OSError as again:
                self._site = await self._bind(old_host, old_port)
                raise _listen_failure(host, port, again) from None
        else:
            await old.stop()
        self._site, self._host = site, host
        return self._bound()

    async def _bind(self, host: str, port: int) -> web.TCPSite:
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        try:
            await site.start()
        except OSError:
            await site.stop()  # a site that never listened: out of the runner's list again
            raise
        return site

    def _bound(self) -> int:
        assert self._site is not None
        self.port = self._site.port
        return self.port

    async def close(self) -> None:
        """Stop listening, let requests in flight finish within the grace period, close the rest."""
        await self._runner.cleanup()
        self._site = None


def _listen_failure(host: str, port: int, exc: OSError) -> ListenError:
    """Why ``host:port`` cannot be had, in words; each front-end offers the way to another port its
    own way (the CLI names ``--port``, the app has a button)."""
    detail = f"{host}:{port}: {exc}"
    if exc.errno in _ADDRESS_IN_USE:
        return ListenError(
            f"Port {port} is already in use by another program (is Switchboard already running?).",
            fix=Fix("choose_port"),
            detail=detail,
        )
    if exc.errno == errno.EACCES:
        return ListenError(
            f"This computer does not allow listening on port {port}: ports up to 1024 are reserved.",
            fix=Fix("choose_port"),
            detail=detail,
        )
    return ListenError(f"Switchboard cannot listen on {host} port {port}.", detail=detail)


def free_port(host: str, after: int, tries: int = 50) -> int:
    """A port free on ``host`` now: the first of the ``tries`` after ``after`` (near the one people
    know), else any the system gives. Blocking, briefly (a bind and a close per port tried)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in [*range(after + 1, min(after + 1 + tries, 65536)), 0]:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            bound: int = probe.getsockname()[1]
            return bound
    raise ListenError(f"No port is free on {host}.")
