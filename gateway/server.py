"""Runs the gateway: bind, serve, drain gracefully on stop.

``GatewayServer`` is what the headless CLI and the tray app's gateway thread both drive:
``start()`` binds (or raises ``ListenError`` with a one-line reason) and ``stop()`` stops
accepting, lets requests in flight finish within the grace period, then closes upstream
connections.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from typing import Any

from aiohttp import web

from gateway.api.app import create_handler
from gateway.api.guard import Guard
from gateway.clock import Clock, SystemClock
from gateway.config import Settings
from gateway.ids import RequestIds
from gateway.service import Gateway
from gateway.transport import Transport
from gateway.transport.aiohttp_transport import AiohttpTransport
from gateway.wiring import build_gateway

log = logging.getLogger("gateway")

_ADDRESS_IN_USE = {errno.EADDRINUSE, 10048}  # 10048: WSAEADDRINUSE on Windows


class ListenError(Exception):
    """The gateway cannot listen where it was asked to; the message says what to do."""


class GatewayServer:
    def __init__(
        self,
        settings: Settings,
        *,
        transport: Transport | None = None,
        clock: Clock | None = None,
        admin_token: str | None = None,
    ) -> None:
        """``admin_token``: what admin routes (status, decide) require; without one they refuse
        everybody."""
        self.settings = settings
        self._admin_token = admin_token
        self._transport = transport or AiohttpTransport()
        self._ids = RequestIds()
        self.gateway: Gateway = build_gateway(settings, self._transport, clock or SystemClock(), self._ids)
        server = settings.server
        self._guard = Guard(
            extra_names=server.allowed_hosts,
            cors_origins=server.cors_origins,
            max_body_bytes=server.max_body_bytes,
        )
        self._runner: web.ServerRunner | None = None
        self._sync: asyncio.Task[None] | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        host = self.settings.server.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    async def start(self) -> None:
        server = self.settings.server
        max_body = server.max_body_bytes
        loop = asyncio.get_running_loop()

        def new_request(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> web.BaseRequest:
            return web.BaseRequest(message, payload, protocol, writer, task, loop, client_max_size=max_body)

        runner = web.ServerRunner(
            web.Server(
                create_handler(self.gateway, self._guard, self._ids, self._admin_token),
                request_factory=new_request,
                handler_cancellation=True,  # a client that hangs up cancels its upstream call
                access_log=None,
                auto_decompress=False,  # bounded inflating is done in api/body.py
            ),
            shutdown_timeout=server.shutdown_grace,
        )
        await runner.setup()
        site = web.TCPSite(runner, server.host, server.port, backlog=1024)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ListenError(_listen_failure(server.host, server.port, exc)) from None
        self._runner = runner
        self.port = runner.addresses[0][1]
        self._guard.listening_on(self.port)
        self._sync = asyncio.create_task(self.gateway.sync.run(), name="model-sync")

    async def stop(self) -> None:
        if self._sync is not None:
            self._sync.cancel()
            self._sync = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.gateway.counted()
        await self._transport.aclose()


def _listen_failure(host: str, port: int, exc: OSError) -> str:
    if exc.errno in _ADDRESS_IN_USE:
        return (
            f"port {port} on {host} is already in use (is Switchboard already running?). "
            f"Stop the other program or choose another port with --port."
        )
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on {host}:{port}; choose a port above 1024 with --port"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
