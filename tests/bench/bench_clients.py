"""Upstream client benchmark (issue 24): our transport (``gateway/transport``, as
``upstream_transport`` builds it) against httpx and aiohttp's client, on CPU time per request.

    python tests/bench/bench_clients.py            # 5 rounds of 1000 requests per point
    python tests/bench/bench_clients.py --quick    # a smoke run (figures meaningless)

One raw-asyncio HTTP/1.1 server runs in its own process (its CPU is not counted), over plain
http and over https with the tests' CA, keep-alive on both. Each client sends (a) a small JSON
POST and reads the JSON answer whole, and (b) a POST answered by ~50 SSE events sent as HTTP
chunks, read chunk by chunk as they arrive — at concurrency 1 and 16. CPU is this process's
``time.process_time`` over the requests. The clients take turns within each round and the
median round is reported, so a shared machine's noise hits all three alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx

from gateway.transport import UpstreamRequest
from gateway.transport.http1 import Http1Transport

# tests/fakes, once the gateway is imported (tests/gateway, a folder of tests, must not stand in for it)
sys.path.append(str(Path(__file__).parents[1]))
from fakes.tls import TestCA

REQUEST = json.dumps({"model": "gpt-bench", "messages": [{"role": "user", "content": "Hello there"}]}).encode()
ANSWER = json.dumps(
    {"id": "bench", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello! How can I help?"}}]}
).encode()
EVENT = b'data: {"choices":[{"index":0,"delta":{"content":"word "}}]}\n\n'
EVENTS = 50
CLIENTS = ("ours", "httpx", "aiohttp")

# --- the server (its own process) -------------------------------------------------------------


class _Answerer(asyncio.Protocol):
    """Keep-alive HTTP/1.1: reads a head and its Content-Length body, answers by path."""

    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head = self._buffer[:end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length :]
            self._answer(head[0].split(" ")[1])

    def _answer(self, path: str) -> None:
        assert self._transport is not None
        if path == "/stream":
            self._transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"%x\r\n%s\r\n" % (len(EVENT), EVENT)
            for _ in range(EVENTS):
                self._transport.write(chunk)
            self._transport.write(b"0\r\n\r\n")
        else:
            self._transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (len(ANSWER), ANSWER)
            )


async def _serve(port: int, tls_port: int, folder: Path) -> None:
    loop = asyncio.get_running_loop()
    ca = TestCA(folder)
    await loop.create_server(_Answerer, "127.0.0.1", port, backlog=512)
    await loop.create_server(_Answerer, "127.0.0.1", tls_port, ssl=ca.server_context(), backlog=512)
    print(ca.ca_file, flush=True)  # ready: the root to trust
    await asyncio.Event().wait()


# --- the clients ------------------------------------------------------------------------------

Call = Callable[[str, bytes], Awaitable[int]]
"""url, body → bytes of answer read (as the client hands them over)."""


@dataclass(frozen=True, slots=True)
class Client:
    call_json: Call
    call_stream: Call
    close: Callable[[], Awaitable[None]]


def _ours(context: ssl.SSLContext) -> Client:
    transport = Http1Transport(tls=context)
    headers = (("Content-Type", "application/json"),)

    async def call_json(url: str, body: bytes) -> int:
        response = await transport.send(UpstreamRequest("bench", "POST", url, headers, body))
        return len(await response.read(1 << 20))

    async def call_stream(url: str, body: bytes) -> int:
        response = await transport.send(UpstreamRequest("bench", "POST", url, headers, body))
        size = 0
        while chunk := await response.read_chunk():
            size += len(chunk)
        response.release()
        return size

    return Client(call_json, call_stream, transport.aclose)


def _httpx(context: ssl.SSLContext) -> Client:
    client = httpx.AsyncClient(
        verify=context, http1=True, http2=False, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64)
    )
    headers = {"Content-Type": "application/json"}

    async def call_json(url: str, body: bytes) -> int:
        return len((await client.post(url, content=body, headers=headers)).content)

    async def call_stream(url: str, body: bytes) -> int:
        size = 0
        async with client.stream("POST", url, content=body, headers=headers) as response:
            async for chunk in response.aiter_raw():
                size += len(chunk)
        return size

    return Client(call_json, call_stream, client.aclose)


def _aiohttp(context: ssl.SSLContext) -> Client:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context, limit=64))
    headers = {"Content-Type": "application/json"}

    async def call_json(url: str, body: bytes) -> int:
        async with session.post(url, data=body, headers=headers) as response:
            return len(await response.read())

    async def call_stream(url: str, body: bytes) -> int:
        size = 0
        async with session.post(url, data=body, headers=headers) as response:
            async for chunk in response.content.iter_any():
                size += len(chunk)
        return size

    return Client(call_json, call_stream, session.close)


MAKERS: dict[str, Callable[[ssl.SSLContext], Client]] = {"ours": _ours, "httpx": _httpx, "aiohttp": _aiohttp}


@dataclass(frozen=True, slots=True)
class Point:
    cpu_us: float  # CPU time of this process per request
    rps: float


async def _measure(name: str, context: ssl.SSLContext, url: str, stream: bool, concurrency: int, n: int) -> Point:
    client = MAKERS[name](context)
    call = client.call_stream if stream else client.call_json
    expected = len(EVENT) * EVENTS if stream else len(ANSWER)

    async def worker(count: int) -> None:
        for _ in range(count):
            size = await call(url, REQUEST)
            assert size == expected, (name, size, expected)

    try:
        await asyncio.gather(*(worker(2) for _ in range(concurrency)))  # connections open, warm
        per = max(1, n // concurrency)
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(per) for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await client.close()
    return Point(cpu / (per * concurrency) * 1e6, per * concurrency / wall)


async def _bench(ports: tuple[int, int], context: ssl.SSLContext, rounds: int, n: int) -> None:
    points = [
        (scheme, mode, concurrency)
        for scheme in ("http", "https")
        for mode in ("json", "stream")
        for concurrency in (1, 16)
    ]
    got: dict[tuple[str, str, int, str], list[Point]] = {}
    for round_ in range(rounds):
        for scheme, mode, concurrency in points:
            port = ports[0] if scheme == "http" else ports[1]
            url = f"{scheme}://localhost:{port}/{mode}"
            order = CLIENTS[round_ % 3 :] + CLIENTS[: round_ % 3]  # who goes first rotates
            for name in order:
                point = await _measure(name, context, url, mode == "stream", concurrency, n)
                got.setdefault((scheme, mode, concurrency, name), []).append(point)
    head = ("scheme", "mode", "conc", "client", "CPU µs/req", "req/s", "CPU/ours", "rps/ours")
    print(f"{head[0]:<7}{head[1]:<8}{head[2]:>5}  {head[3]:<9}{head[4]:>11}{head[5]:>9}{head[6]:>10}{head[7]:>10}")
    for scheme, mode, concurrency in points:
        ours = _median(got[(scheme, mode, concurrency, "ours")])
        for name in CLIENTS:
            p = _median(got[(scheme, mode, concurrency, name)])
            print(
                f"{scheme:<7}{mode:<8}{concurrency:>5}  {name:<9}{p.cpu_us:>11.0f}{p.rps:>9.0f}"
                f"{p.cpu_us / ours.cpu_us:>9.2f}x{p.rps / ours.rps:>9.2f}x"
            )


def _median(points: list[Point]) -> Point:
    return Point(statistics.median(p.cpu_us for p in points), statistics.median(p.rps for p in points))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round of a few requests: a smoke run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000, help="per point and client, in each round")
    parser.add_argument("--serve", nargs=3, metavar=("PORT", "TLS_PORT", "CA_FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(int(args.serve[0]), int(args.serve[1]), Path(args.serve[2])))
        return
    rounds, n = (1, 32) if args.quick else (args.rounds, args.requests)
    with tempfile.TemporaryDirectory() as folder:
        ports = (_free_port(), _free_port())
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(ports[0]), str(ports[1]), folder],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            context = ssl.create_default_context(cafile=server.stdout.readline().strip())
            print(f"{rounds} rounds of {n} requests per point and client; {EVENTS} SSE chunks per stream")
            asyncio.run(_bench(ports, context, rounds, n))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
