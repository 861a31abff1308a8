"""One upstream response read to its end: the body as its framing delimits it, decompressed,
within its deadlines; its connection goes back to the pool once the body is complete."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Mapping

from gateway.errors import UpstreamBadResponse, UpstreamTimeout
from gateway.transport.pool import Connection, Pool
from gateway.transport.wire import Body, Headers


class Watch:
    """A response's deadlines: the whole request (``total``) and the longest silence while
    waiting for the upstream (``read``)."""

    __slots__ = ("_conn", "_provider", "_read", "_watchman", "deadline", "waiting_since")

    def __init__(self, conn: Connection, watchman: Watchman, provider: str, read: float, deadline: float) -> None:
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


class Watchman:
    """Checks the deadlines of every response in flight ten times a second: one timer for all of
    them rather than one per request, which would cost more than the rest of the request's I/O."""

    TICK = 0.1

    def __init__(self) -> None:
        self._watches: set[Watch] = set()
        self._handle: asyncio.TimerHandle | None = None

    def add(self, watch: Watch) -> None:
        self._watches.add(watch)
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self.TICK, self._tick)

    def discard(self, watch: Watch) -> None:
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


class Http1Response:
    __slots__ = ("_body", "_conn", "_decoder", "_pool", "_provider", "_reusable", "_watch", "headers", "status")

    def __init__(
        self,
        conn: Connection,
        pool: Pool,
        provider: str,
        status: int,
        headers: Headers,
        body: Body,
        watch: Watch,
        reusable: bool,
    ) -> None:
        self._conn: Connection | None = conn
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
