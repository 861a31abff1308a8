"""Proxies on loopback for tests, logging what they saw: an HTTP forward proxy (``CONNECT``
tunnels, absolute-form forwarding, optional Basic auth) and a SOCKS5 server (optional user name
and password). Both reach every host name at 127.0.0.1, so a test's upstream can have a name that
is not loopback's (loopback upstreams are never proxied) and still be a fake on this machine
(``fakes.tls.TestCA(folder, (UPSTREAM_NAME,))`` signs that name's certificate)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import struct
from dataclasses import dataclass
from typing import Self
from urllib.parse import urlsplit

UPSTREAM_NAME = "upstream.test"  # a name no resolver knows: only a proxy reaches it


@dataclass
class Seen:
    method: str  # "CONNECT", "GET", "POST", … or "SOCKS5"
    target: str  # "host:port" for a tunnel, the whole URL for a forwarded request
    headers: dict[str, str]


class _Server:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def where(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def _splice(
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    await asyncio.gather(_pipe(client[0], upstream[1]), _pipe(upstream[0], client[1]), return_exceptions=True)


class ForwardProxy(_Server):
    """``credentials``: the user name and password it asks for (407 without them)."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        super().__init__()
        self._expected = None
        if credentials is not None:
            self._expected = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        first, *lines = head.split("\r\n")[:-2]
        method, target, _ = first.split(" ")
        headers = dict(line.split(": ", 1) for line in lines)
        self.seen.append(Seen(method, target, headers))
        if self._expected is not None and headers.get("Proxy-Authorization") != self._expected:
            writer.write(b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n')
            writer.write(b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return
        if method == "CONNECT":
            port = int(target.rpartition(":")[2])
            upstream = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await _splice((reader, writer), upstream)
            return
        url = urlsplit(target)
        upstream = await asyncio.open_connection("127.0.0.1", url.port or 80)
        kept = [f"{n}: {v}" for n, v in headers.items() if not n.lower().startswith("proxy-") and n != "Connection"]
        forwarded = "\r\n".join([f"{method} {url.path or '/'} HTTP/1.1", *kept, "Connection: close"]) + "\r\n\r\n"
        upstream[1].write(forwarded.encode("latin-1"))
        await _splice((reader, writer), upstream)


class FakeSocks5(_Server):
    """SOCKS5, CONNECT only; ``credentials``: the user name and password it asks for."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        super().__init__()
        self._credentials = credentials

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        wanted = 2 if self._credentials else 0
        if wanted not in methods:
            writer.write(b"\x05\xff")
            return
        writer.write(bytes([5, wanted]))
        if self._credentials:
            _, size = await reader.readexactly(2)
            user = (await reader.readexactly(size)).decode()
            size = (await reader.readexactly(1))[0]
            password = (await reader.readexactly(size)).decode()
            ok = (user, password) == self._credentials
            writer.write(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                return
        _, _, _, kind = await reader.readexactly(4)
        if kind == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        else:
            raw = await reader.readexactly(4 if kind == 1 else 16)
            host = str(ipaddress.ip_address(raw))
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        self.seen.append(Seen("SOCKS5", f"{host}:{port}", {}))
        upstream = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
        await writer.drain()
        await _splice((reader, writer), upstream)


class CannedProxy(_Server):
    """A proxy that answers every request with ``answer`` (a 407 or 502 with a body, a tunnel
    granted…), then closes the connection, or with ``hold`` keeps it open and silent."""

    def __init__(self, answer: bytes, *, hold: bool = False) -> None:
        super().__init__()
        self._answer, self._hold = answer, hold

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        first, *lines = head.split("\r\n")[:-2]
        method, target, _ = first.split(" ")
        self.seen.append(Seen(method, target, dict(line.split(": ", 1) for line in lines)))
        writer.write(self._answer)
        await writer.drain()
        if self._hold:
            await reader.read()  # until the client goes away
