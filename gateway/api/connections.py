"""What one connection may take of the gateway: time to send a request, and a place at all
(SECURITY.md S39, B28).

- **Head deadline.** A request's head must arrive whole within ``header_timeout`` of the
  connection opening, or of the previous answer on it; otherwise the connection is closed. This is
  aiohttp's keep-alive timer (``keepalive_timeout``, which the gateway sets): it is armed when a
  connection opens and after each answer, the bytes that arrive do not push it back, and it fires
  only while no whole head has come. The same timer closes a keep-alive connection left idle.
- **Body deadline.** A request's body must arrive whole within ``body_timeout`` of its head:
  reading it then fails with ``BodyTimedOut`` and the caller is answered 408 (``api/body.py``).
- **Connection cap.** At most ``total`` connections at once. Peers beyond loopback may hold three
  quarters of them, and each such address ``per_peer``, so a flood from the network never takes
  the last places (and descriptors) from this computer's own callers. Loopback peers — all of
  127.0.0.0/8 and ::1, which only this computer can send from — draw on the whole cap. A refused
  connection is answered 503 and closed before a byte of it is read.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from gateway.transport.addresses import is_loopback

log = logging.getLogger("gateway")

LOOPBACK_SHARE = 4  # a quarter of the cap is kept for this computer's own callers
SPARE_DESCRIPTORS = 64  # the database, logs, listening sockets and pipes
_BUSY = json.dumps(
    {
        "error": {
            "message": "Too many connections to this gateway from this address; close some and try again.",
            "type": "server_error",
            "code": "too_many_connections",
        }
    }
).encode()
_TOO_MANY_CONNECTIONS = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: " + str(len(_BUSY)).encode() + b"\r\n\r\n" + _BUSY
)


class BodyTimedOut(TimeoutError):
    """The request body did not arrive within its deadline. A ``TimeoutError``: aiohttp, when it
    drains an unread body after the answer, takes this as the end of the body, not as a fault."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body did not arrive within {seconds:g} s")


def limit_body_time(payload: StreamReader, seconds: float, loop: asyncio.AbstractEventLoop) -> None:
    """Fail the reading of ``payload`` unless it is whole within ``seconds`` (called as the head
    is handed on, for a body that has not all arrived with it)."""
    handle = loop.call_later(seconds, _time_out, payload, seconds)
    payload.on_eof(handle.cancel)


def _time_out(payload: StreamReader, seconds: float) -> None:
    if not payload.is_eof():
        payload.set_exception(BodyTimedOut(seconds))


def connection_cap(configured: int, descriptors: int | None) -> int:
    """The cap on connections: as configured, and within the descriptor limit, each connection
    possibly holding an upstream connection while it is answered."""
    if descriptors is None:
        return configured
    return max(LOOPBACK_SHARE, min(configured, (descriptors - SPARE_DESCRIPTORS) // 2))  # a place for loopback


class ConnectionCap:
    """Who may open one more connection. ``is_local``: which peer addresses are this computer."""

    def __init__(self, total: int, per_peer: int, is_local: Callable[[str], bool] = is_loopback) -> None:
        self.resize(total, per_peer)
        self._is_local = is_local
        self.open = 0
        self.remote = 0
        self._remote_peers: dict[str, int] = {}  # open connections per address beyond loopback

    def resize(self, total: int, per_peer: int) -> None:
        """New caps, for the connections still to come (those open stay)."""
        self.total = total
        self.remote_total = total - total // LOOPBACK_SHARE
        self.per_peer = per_peer

    def admit(self, peer: str) -> bool:
        """Count a connection from ``peer`` in, or refuse it (False)."""
        if self.open >= self.total:
            return False
        if not self._is_local(peer):
            held = self._remote_peers.get(peer, 0)
            if self.remote >= self.remote_total or held >= self.per_peer:
                return False
            self._remote_peers[peer] = held + 1
            self.remote += 1
        self.open += 1
        return True

    def release(self, peer: str) -> None:
        """Count out a connection that ``admit`` let in."""
        self.open -= 1
        held = self._remote_peers.get(peer)
        if held is not None:
            self.remote -= 1
            if held > 1:
                self._remote_peers[peer] = held - 1
            else:
                del self._remote_peers[peer]


class CappedServer(web.Server):
    """aiohttp's low-level server, letting each new connection in only within the cap."""

    def __init__(self, handler: Any, *, cap: ConnectionCap, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.cap = cap
        self._peers: dict[RequestHandler, str] = {}
        self._refused_peers: set[str] = set()  # warned about, until one of theirs closes

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        peer = _peer_address(transport)
        if not self.cap.admit(peer):
            self._refuse(peer, handler, transport)
            return
        self._peers[handler] = peer
        super().connection_made(handler, transport)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        peer = self._peers.pop(handler, None)
        if peer is not None:
            self.cap.release(peer)
            self._refused_peers.discard(peer)
        super().connection_lost(handler, exc)

    def _refuse(self, peer: str, handler: RequestHandler, transport: asyncio.Transport) -> None:
        if peer not in self._refused_peers and len(self._refused_peers) < self.cap.total:
            self._refused_peers.add(peer)  # once per flood, not once per connection
            log.warning(
                "refusing connections from %s: the cap is reached (%d from one address beyond loopback, %d in all)",
                peer,
                self.cap.per_peer,
                self.cap.total,
            )
        transport.write(_TOO_MANY_CONNECTIONS)
        handler.force_close()  # the transport closes once the answer is written


def _peer_address(transport: asyncio.Transport) -> str:
    peername = transport.get_extra_info("peername")
    return str(peername[0]) if isinstance(peername, tuple) and peername else ""
