"""A closed-loop HTTP/1.1 load generator on raw asyncio protocols (fast enough not to be the
bottleneck): ``concurrency`` keep-alive connections, each sending its next request as soon as the
previous answer is complete. Records latency and time to first body byte for every request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    first_bytes: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @staticmethod
    def _pct(values: list[float], p: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def p(self, pct: float) -> float:
        return self._pct(self.latencies, pct)

    def ttfb(self, pct: float = 50) -> float:
        return self._pct(self.first_bytes, pct)


class _Conn(asyncio.Protocol):
    def __init__(self, request: bytes, run: _Run) -> None:
        self.request = request
        self.run = run
        self.buf = b""
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream connection's transport writes; uvloop's does without subclassing asyncio's.
        self.transport = cast(asyncio.WriteTransport, transport)
        self._send()

    def _send(self) -> None:
        self.buf = b""
        self.body_start = -1
        self.first = 0.0
        self.start = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buf += data
        if self.body_start < 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self.body_start = end + 4
            head = self.buf[:end].lower()
            self.status = int(head[9:12])
            self.chunked = b"transfer-encoding: chunked" in head
            at = head.find(b"content-length:")
            self.length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
        if not self.first and len(self.buf) > self.body_start:
            self.first = now
        if self._complete():
            self.run.record(self.status, now - self.start, (self.first or now) - self.start)
            if self.run.running:
                self._send()
            else:
                self.transport.close()
                if not self.done.done():
                    self.done.set_result(None)

    def _complete(self) -> bool:
        if not self.chunked:
            return len(self.buf) >= self.body_start + self.length
        return self.buf.endswith(b"0\r\n\r\n") and self._chunks_end()

    def _chunks_end(self) -> bool:
        at = self.body_start
        buf = self.buf
        while True:
            line_end = buf.find(b"\r\n", at)
            if line_end < 0:
                return False
            size = int(buf[at:line_end], 16)
            if size == 0:
                return line_end + 4 <= len(buf)
            at = line_end + 2 + size + 2
            if at > len(buf):
                return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


class _Run:
    def __init__(self) -> None:
        self.running = True
        self.measuring = False
        self.latencies: list[float] = []
        self.first_bytes: list[float] = []
        self.errors = 0

    def record(self, status: int, latency: float, first: float) -> None:
        if not self.measuring:
            return
        if status != 200:
            self.errors += 1
        self.latencies.append(latency)
        self.first_bytes.append(first)


def build_request(host: str, port: int, path: str, body: bytes, token: str = "bench") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def load(
    port: int,
    path: str,
    body: bytes,
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 0.3,
    on_window: Callable[[str], None] | None = None,
    token: str = "bench",
) -> Result:
    """Run the load; ``on_window("start")`` and ``on_window("end")`` bracket the measured window.
    ``token``: the bearer each request carries (a client key, for a gateway that requires one)."""
    loop = asyncio.get_running_loop()
    run = _Run()
    request = build_request("127.0.0.1", port, path, body, token)
    conns = []
    for _ in range(concurrency):
        _, proto = await loop.create_connection(lambda: _Conn(request, run), "127.0.0.1", port)
        conns.append(proto)
    await asyncio.sleep(warmup)
    if on_window:
        on_window("start")
    run.measuring = True
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    run.measuring = False
    elapsed = time.perf_counter() - started
    if on_window:
        on_window("end")
    run.running = False
    await asyncio.wait([c.done for c in conns], timeout=10)
    return Result(len(run.latencies), elapsed, run.latencies, run.first_bytes, run.errors)
