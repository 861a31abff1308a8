"""Requests real clients send that the gateway used to refuse (issue 19): Claude Code's ``HEAD``
probes, LiteLLM's Ollama bodies with no ``Content-Type``, Codex's zstd bodies."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest
from backports import zstd
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI
from test_guard import CHAT, get, post, raw

from gateway import GatewayServer

# Every route that takes a model request as JSON, with a body it accepts.
JSON_ENDPOINTS = {
    "/v1/chat/completions": b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"hi"}]}',
    "/v1/responses": b'{"model":"fake/gpt-test","input":"hi"}',
    "/v1/embeddings": b'{"model":"fake/text-embed-test","input":"hi"}',
    "/v1/messages": b'{"model":"fake/gpt-test","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}',
    "/api/chat": b'{"model":"fake/gpt-test","stream":false,"messages":[{"role":"user","content":"hi"}]}',
    "/api/generate": b'{"model":"fake/gpt-test","stream":false,"prompt":"hi"}',
    "/api/embed": b'{"model":"fake/text-embed-test","input":"hi"}',
}


def untyped(port: int, path: str, body: bytes, headers: str = "") -> bytes:
    """A POST with no Content-Type, as LiteLLM's ``ollama_chat/`` and ``ollama/`` providers send."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n{headers}Connection: close\r\n\r\n"
    ).encode() + body


async def head(port: int, path: str, host: str | None = None, headers: str = "") -> tuple[int, bytes]:
    """The status of a HEAD request, and every byte after the answer's head (none, for HEAD)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"HEAD {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n{headers}Connection: close\r\n\r\n".encode())
    async with asyncio.timeout(3):
        answer = await reader.read()
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def message_of(path: str, body: bytes) -> str:
    """The error message, in whichever of the three protocols' shapes the path answers in."""
    error = json.loads(body)["error"]
    return str(error if path.startswith("/api/") else error["message"])


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


# --- bodies without Content-Type -----------------------------------------------------------------

@pytest.mark.parametrize("path", list(JSON_ENDPOINTS))
async def test_a_body_without_content_type_is_json_when_no_browser_sent_it(gateway: GatewayServer, path: str) -> None:
    status, _, body = await raw(gateway.port, untyped(gateway.port, path, JSON_ENDPOINTS[path]))
    assert status == 200, body


@pytest.mark.parametrize("browser", ["Origin: http://localhost:3000\r\n", "Sec-Fetch-Site: same-origin\r\n"])
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/chat", "/v1/messages"])
async def test_a_browser_body_without_content_type_is_still_415(
    start_gateway: StartGateway, upstream: FakeOpenAI, path: str, browser: str
) -> None:
    """SECURITY.md S9, B14: a page may send a body with no type (a beacon, a no-cors fetch), never
    without Origin or Sec-Fetch-Site; even from an origin the gateway lets in, it is refused."""
    gw = await start_gateway(
        '[server]\ncors_origins = ["http://localhost:3000"]\n' + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}
    )
    status, _, body = await raw(gw.port, untyped(gw.port, path, JSON_ENDPOINTS[path], browser))
    assert status == 415 and "Content-Type" in message_of(path, body)
    assert upstream.chat_requests == []


# --- zstd bodies ---------------------------------------------------------------------------------

async def test_a_zstd_body_is_read(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    status, _, _ = await raw(gateway.port, post(gateway.port, zstd.compress(CHAT), headers="Content-Encoding: zstd\r\n"))
    assert status == 200
    assert upstream.chat_requests[-1].json["messages"] == [{"role": "user", "content": "hi"}]


async def test_a_zstd_bomb_is_refused_as_a_gzip_bomb_is(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    """SECURITY.md B15: decompressed only up to the limit, whatever the body would expand to."""
    gw = await start_gateway("[server]\nmax_body_mb = 0.01\n" + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY})
    inside = b'{"model":"' + b"a" * 5_000_000 + b'"}'
    bombs = {"zstd": zstd.compress(inside, level=19), "gzip": gzip.compress(inside)}
    answers = {name: await raw(gw.port, post(gw.port, bomb, headers=f"Content-Encoding: {name}\r\n")) for name, bomb in bombs.items()}
    assert answers["zstd"][0] == answers["gzip"][0] == 413
    assert json.loads(answers["zstd"][2])["error"]["code"] == "payload_too_large"
    assert upstream.chat_requests == []


@pytest.mark.parametrize(
    "body",
    [b"not zstd at all", zstd.compress(CHAT)[:-4], zstd.compress(CHAT) + b"xx"],
    ids=["garbage", "cut short", "data after it"],
)
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages", "/api/chat"])
async def test_a_corrupt_zstd_body_gets_a_clear_400_in_the_clients_protocol(
    gateway: GatewayServer, upstream: FakeOpenAI, path: str, body: bytes
) -> None:
    status, _, answer = await raw(gateway.port, post(gateway.port, body, path=path, headers="Content-Encoding: zstd\r\n"))
    assert status == 400
    assert "zstd" in message_of(path, answer)
    if path == "/v1/messages":
        assert json.loads(answer)["type"] == "error"
    assert upstream.chat_requests == []


@pytest.mark.parametrize("body", [gzip.compress(CHAT)[:-4], gzip.compress(CHAT) + b"xx"], ids=["cut short", "data after it"])
async def test_a_gzip_body_is_held_to_the_same_rule(gateway: GatewayServer, upstream: FakeOpenAI, body: bytes) -> None:
    """Once dropped without a word: the part after the stream, or the end the client never sent."""
    status, _, answer = await raw(gateway.port, post(gateway.port, body, headers="Content-Encoding: gzip\r\n"))
    assert status == 400 and "gzip" in message_of("/v1/chat/completions", answer)
    assert upstream.chat_requests == []
