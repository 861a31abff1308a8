"""Update checks and downloads go the way the gateway's upstreams go: through ``[network] proxy``
(its credentials sent to the proxy), not even the environment's with "direct"."""

from __future__ import annotations

import asyncio

import pytest
from fakes.forward_proxy import ForwardProxy

from app.update_http import fetch, update_client
from gateway import NetworkSettings, Proxy

PASSWORD = "hunter2-proxy-pass"


async def _serving() -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def test_the_settings_proxy_carries_the_update_check() -> None:
    proxy = await ForwardProxy(("ann", PASSWORD)).start()
    server = await _serving()
    feed = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/feed.json"
    network = NetworkSettings(proxy=Proxy("http", "127.0.0.1", proxy.port, "ann", PASSWORD))
    try:
        async with server, update_client(network=network) as client:
            assert await fetch(client, feed, 16) == b"ok"
    finally:
        await proxy.stop()
    (seen,) = proxy.seen
    assert (seen.method, seen.target) == ("GET", feed)
    assert seen.headers["Proxy-Authorization"].startswith("Basic ")


async def test_direct_ignores_the_environments_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = await ForwardProxy().start()
    server = await _serving()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://{proxy.where}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    feed = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/feed.json"
    try:
        async with server, update_client(network=NetworkSettings(proxy="direct")) as client:
            assert await fetch(client, feed, 16) == b"ok"
    finally:
        await proxy.stop()
    assert proxy.seen == []
