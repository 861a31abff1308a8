"""What one connection may take of the gateway (issue 20 item 3; SECURITY.md S39, B28): a head
and a body each have a deadline, connections from one address beyond loopback are capped while
this computer's own callers are still served, and the descriptor limit is raised at start.

Deadlines here are short ones set in the config; the defaults are 15 s and 60 s.

Loopback, for the cap, is every peer in 127.0.0.0/8 or ::1 (only this computer can send from
them). To have a peer beyond loopback without leaving the machine, these tests connect from a
second loopback address, 127.0.0.2, and tell the gateway (its ``loopback`` argument) that only
127.0.0.1 is this computer.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI
from test_cli import child_env
from test_guard import CHAT, get, raw

from gateway import GatewayServer
from gateway.api.connections import SPARE_DESCRIPTORS, connection_cap

FAST = "[server]\nheader_timeout_seconds = 0.5\nbody_timeout_seconds = 0.5\n"


async def start(start_gateway: StartGateway, upstream: FakeOpenAI, server: str = FAST, **kwargs: object) -> int:
    """The port of a gateway started with ``server`` settings."""
    gateway: GatewayServer = await start_gateway(
        server + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}, **kwargs
    )
    assert gateway.port is not None
    return gateway.port


async def closed_after(reader: asyncio.StreamReader, since: float) -> float:
    """Seconds from ``since`` until the gateway closed the connection, having sent nothing more."""
    async with asyncio.timeout(5):
        assert await reader.read() == b""
    return time.monotonic() - since


async def test_a_silent_connection_is_closed_at_the_head_deadline(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    """S39: nothing sent; and a head sent one byte at a time, never finished in time."""
    port = await start(start_gateway, upstream)
    opened = time.monotonic()
    silent_reader, silent = await asyncio.open_connection("127.0.0.1", port)
    dribble_reader, dribble = await asyncio.open_connection("127.0.0.1", port)

    async def one_byte_at_a_time() -> None:
        for byte in get(port, "/health"):  # a whole head would take ~4 s at this pace
            dribble.write(bytes([byte]))
            await asyncio.sleep(0.05)

    dribbling = asyncio.create_task(one_byte_at_a_time())
    status, _, _ = await raw(port, get(port, "/health"))  # others are served meanwhile
    assert status == 200
    assert 0.4 < await closed_after(silent_reader, opened) < 2
    assert await closed_after(dribble_reader, opened) < 2 and not dribbling.done()
    dribbling.cancel()
    silent.close()
    dribble.close()


async def test_an_idle_keep_alive_connection_is_closed(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    port = await start(start_gateway, upstream)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(get(port, "/health").replace(b"Connection: close", b"Connection: keep-alive"))
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    await reader.readexactly(length)
    answered = time.monotonic()
    assert 0.4 < await closed_after(reader, answered) < 2
    writer.close()


async def test_a_body_sent_too_slowly_gets_408(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    """B28: a head that promises a body, part of it, then nothing."""
    port = await start(start_gateway, upstream)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(CHAT)}\r\n\r\n".encode()
        + CHAT[:10]
    )
    async with asyncio.timeout(5):
        answer = await reader.read()  # to the end: the connection is closed after the 408
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert json.loads(body)["error"]["code"] == "request_timeout"
    assert not [r for r in upstream.requests if r.method == "POST"]


async def test_a_body_sent_in_parts_within_the_deadline_is_answered(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    port = await start(start_gateway, upstream, "[server]\nbody_timeout_seconds = 2\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(CHAT)}\r\nConnection: close\r\n\r\n".encode()
    )
    for start_at in range(0, len(CHAT), 20):
        await asyncio.sleep(0.05)
        writer.write(CHAT[start_at : start_at + 20])
    async with asyncio.timeout(5):
        answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def can_connect_from(address: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return False
    return True


@asynccontextmanager
async def connections(
    port: int, source: str, count: int
) -> AsyncIterator[list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]:
    """``count`` connections from ``source`` that send nothing, closed on leaving."""
    opened = [await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0)) for _ in range(count)]
    try:
        yield opened
    finally:
        for _, writer in opened:
            writer.close()


async def refused(port: int, source: str) -> bool:
    """Whether a new connection from ``source`` is answered 503 and closed before it sends a byte."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        async with asyncio.timeout(0.5):
            answer = await reader.read()
    except TimeoutError:
        return False  # held open, waiting for a request: let in
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 503") and b"too_many_connections" in answer, answer
    return True


@pytest.mark.skipif(not can_connect_from("127.0.0.2"), reason="only 127.0.0.1 is configured on this machine's loopback")
async def test_connections_beyond_loopback_are_capped_while_loopback_is_served(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    """S39: per peer, and all peers beyond loopback together, always leaving room for loopback."""
    port = await start(
        start_gateway,
        upstream,
        "[server]\nmax_connections = 8\nmax_connections_per_peer = 4\n",
        loopback=lambda peer: peer == "127.0.0.1",
    )
    async with connections(port, "127.0.0.2", 4):
        await asyncio.sleep(0.1)  # the gateway has counted them
        assert await refused(port, "127.0.0.2")  # its own cap
        async with connections(port, "127.0.0.3", 2):
            await asyncio.sleep(0.1)
            assert await refused(port, "127.0.0.3")  # 6 beyond loopback: three quarters of 8
            async with connections(port, "127.0.0.1", 1):  # loopback may take the places left
                for _ in range(3):
                    status, _, _ = await raw(port, get(port, "/health"))
                    assert status == 200
    await asyncio.sleep(0.1)
    assert not await refused(port, "127.0.0.2")  # their places were given back


@pytest.mark.skipif(sys.platform != "linux", reason="reads a child's limit with prlimit (Linux)")
async def test_the_descriptor_soft_limit_is_raised_to_the_hard_limit(tmp_path: Path) -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)

    def lower_the_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "serve",
        "--port",
        "0",
        env=child_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=lower_the_soft_limit,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(15):
            assert b"listening on" in await proc.stdout.readline()
        assert resource.prlimit(proc.pid, resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


def test_the_cap_leaves_descriptors_for_upstream_calls() -> None:
    assert connection_cap(1024, None) == 1024  # no limit to read (Windows)
    assert connection_cap(1024, 1_048_576) == 1024
    assert connection_cap(1024, 1024) == (1024 - SPARE_DESCRIPTORS) // 2  # a limit that could not be raised
