"""Connections to upstreams: one socket each (bytes in a buffer, a wait for more), and the pool
that keeps spare keep-alive ones per origin and bounds how many are in use at once."""

from __future__ import annotations

import asyncio

from gateway.transport.proxies import Proxy, UnusableProxy

_HIGH_WATER = 1 << 18  # buffered bytes at which reading from the socket pauses
KEEP_IDLE = 15.0  # seconds a spare connection is kept; servers often close theirs after 30-75
_MAX_IDLE_PER_ORIGIN = 256

Origin = tuple[str, str, int, Proxy | UnusableProxy | None]
"""scheme, host, port, and the proxy the connection goes through (None: directly; an unusable one: none is made)"""


class Connection(asyncio.Protocol):
    """One socket: bytes in a buffer, a waiter woken when more arrive or the peer goes away."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.ended = False  # the peer closed (or the socket failed)
        self.failure: BaseException | None = None
        self.idle_since = 0.0
        self.generation = 0  # the pool's when it was made: one made before close_spare is not kept
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


class Pool:
    """Spare keep-alive connections per origin, and a bound on connections in use."""

    def __init__(self, max_connections: int, keep_idle: float) -> None:
        self._keep_idle = keep_idle
        self._idle: dict[Origin, list[Connection]] = {}
        self._slots = asyncio.Semaphore(max_connections)
        self._origin: dict[Connection, Origin] = {}
        self.in_use = 0
        self._generation = 0
        self._sweep: asyncio.TimerHandle | None = None

    async def acquire(self) -> None:
        await self._slots.acquire()
        self.in_use += 1

    def _free(self) -> None:
        self.in_use -= 1
        self._slots.release()

    def spare(self, origin: Origin, now: float) -> Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if conn.reusable and now - conn.idle_since < self._keep_idle:
                return conn
            conn.abort()
            self._origin.pop(conn, None)
        return None

    def track(self, conn: Connection, origin: Origin) -> None:
        self._origin[conn] = origin
        conn.generation = self._generation

    def give_back(self, conn: Connection, reusable: bool) -> None:
        self._free()
        origin = self._origin.get(conn)
        idle = self._idle.setdefault(origin, []) if origin is not None else None
        fresh = conn.generation == self._generation
        if reusable and fresh and idle is not None and conn.reusable and len(idle) < _MAX_IDLE_PER_ORIGIN:
            conn.idle_since = conn.loop.time()
            idle.append(conn)
            if self._sweep is None:
                self._sweep = conn.loop.call_later(self._keep_idle, self._close_stale)
            return
        self._origin.pop(conn, None)
        conn.abort()

    def close_spare(self) -> None:
        """Close every spare connection, and those in use once they are done (the way upstreams
        are reached has changed: a new ca_file, a new proxy)."""
        self._generation += 1
        for idle in self._idle.values():
            for conn in idle:
                conn.abort()
                self._origin.pop(conn, None)
        self._idle.clear()

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

    def unused(self, conn: Connection | None) -> None:
        """A slot taken for a request that never got as far as a response."""
        self._free()
        if conn is not None:
            self._origin.pop(conn, None)
            conn.abort()

    def close(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for idle in self._idle.values():
            for conn in idle:
                conn.abort()
        self._idle.clear()
        self._origin.clear()
