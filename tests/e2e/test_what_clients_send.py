"""Requests real clients send that the gateway used to refuse (issue 19): Claude Code's ``HEAD``
probes, LiteLLM's Ollama bodies with no ``Content-Type``, Codex's zstd bodies."""

from __future__ import annotations

import asyncio

import pytest
from test_guard import get, raw

from gateway import GatewayServer


async def head(port: int, path: str, host: str | None = None, headers: str = "") -> tuple[int, bytes]:
    """The status of a HEAD request, and every byte after the answer's head (none, for HEAD)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"HEAD {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n{headers}Connection: close\r\n\r\n".encode())
    async with asyncio.timeout(3):
        answer = await reader.read()
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


# --- Claude Code's HEAD probes ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/api/hello", "/ollama/"])
async def test_head_probes_get_200_and_no_body(gateway: GatewayServer, path: str) -> None:
    assert await head(gateway.port, path) == (200, b"")


async def test_the_root_answers_as_ollama_does(gateway: GatewayServer) -> None:
    status, headers, body = await raw(gateway.port, get(gateway.port, "/"))
    assert status == 200 and body == b"Ollama is running"
    assert headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("path", ["/", "/api/hello"])
async def test_the_probes_keep_the_host_and_origin_rules(gateway: GatewayServer, path: str) -> None:
    """SECURITY.md S6, S8: a rebinding page's probe is refused like any other request."""
    assert (await head(gateway.port, path, host="evil.example"))[0] == 403
    assert (await head(gateway.port, path, headers="Origin: https://evil.example\r\n"))[0] == 403
