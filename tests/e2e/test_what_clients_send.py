"""Requests real clients send that the gateway used to refuse (issue 19): Claude Code's ``HEAD``
probes, LiteLLM's Ollama bodies with no ``Content-Type``, Codex's zstd bodies; and what a user sees
of a request the gateway does refuse before routing it: a log line at INFO and a ledger row."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from backports import zstd
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.anthropic_upstream import FakeAnthropic
from fakes.openai_upstream import FakeOpenAI
from test_cli import run
from test_guard import CHAT, get, port_of, post, raw

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
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n"
        f"{headers}Connection: close\r\n\r\n"
    ).encode() + body


async def head(port: int, path: str, host: str | None = None, headers: str = "") -> tuple[int, bytes]:
    """The status of a HEAD request, and every byte after the answer's head (none, for HEAD)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"HEAD {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n{headers}Connection: close\r\n\r\n".encode()
    )
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
    assert await head(port_of(gateway), path) == (200, b"")


async def test_the_root_answers_as_ollama_does(gateway: GatewayServer) -> None:
    status, headers, body = await raw(port_of(gateway), get(port_of(gateway), "/"))
    assert status == 200 and body == b"Ollama is running"
    assert headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("path", ["/", "/api/hello"])
async def test_the_probes_keep_the_host_and_origin_rules(gateway: GatewayServer, path: str) -> None:
    """SECURITY.md S6, S8: a rebinding page's probe is refused like any other request."""
    assert (await head(port_of(gateway), path, host="evil.example"))[0] == 403
    assert (await head(port_of(gateway), path, headers="Origin: https://evil.example\r\n"))[0] == 403


# --- bodies without Content-Type -----------------------------------------------------------------

# LiteLLM 1.110's Ollama providers label their JSON as aiohttp labels raw bytes.
OCTETS = "Content-Type: application/octet-stream\r\n"


@pytest.mark.parametrize("label", ["", OCTETS])
@pytest.mark.parametrize("path", list(JSON_ENDPOINTS))
async def test_a_body_without_content_type_is_json_when_no_browser_sent_it(
    gateway: GatewayServer, path: str, label: str
) -> None:
    status, _, body = await raw(port_of(gateway), untyped(port_of(gateway), path, JSON_ENDPOINTS[path], label))
    assert status == 200, body


@pytest.mark.parametrize("label", ["", OCTETS])
@pytest.mark.parametrize("browser", ["Origin: http://localhost:3000\r\n", "Sec-Fetch-Site: same-origin\r\n"])
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/chat", "/v1/messages"])
async def test_a_browser_body_without_content_type_is_still_415(
    start_gateway: StartGateway, upstream: FakeOpenAI, path: str, browser: str, label: str
) -> None:
    """SECURITY.md S9, B14: a page may send a body with no type (a beacon, a no-cors fetch), never
    without Origin or Sec-Fetch-Site; even from an origin the gateway lets in, it is refused."""
    gw = await start_gateway(
        '[server]\ncors_origins = ["http://localhost:3000"]\n' + provider_table("fake", upstream),
        {"FAKE_KEY": FAKE_KEY},
    )
    status, _, body = await raw(port_of(gw), untyped(port_of(gw), path, JSON_ENDPOINTS[path], browser + label))
    assert status == 415 and "Content-Type" in message_of(path, body)
    assert upstream.chat_requests == []


# --- zstd bodies ---------------------------------------------------------------------------------


async def test_a_zstd_body_is_read(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    status, _, _ = await raw(
        port_of(gateway), post(port_of(gateway), zstd.compress(CHAT), headers="Content-Encoding: zstd\r\n")
    )
    assert status == 200
    assert upstream.chat_requests[-1].json["messages"] == [{"role": "user", "content": "hi"}]


async def test_a_zstd_bomb_is_refused_as_a_gzip_bomb_is(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    """SECURITY.md B15: decompressed only up to the limit, whatever the body would expand to."""
    gw = await start_gateway(
        "[server]\nmax_body_mb = 0.01\n" + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}
    )
    inside = b'{"model":"' + b"a" * 5_000_000 + b'"}'
    bombs = {"zstd": zstd.compress(inside, level=19), "gzip": gzip.compress(inside)}
    answers = {
        name: await raw(port_of(gw), post(port_of(gw), bomb, headers=f"Content-Encoding: {name}\r\n"))
        for name, bomb in bombs.items()
    }
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
    status, _, answer = await raw(
        port_of(gateway), post(port_of(gateway), body, path=path, headers="Content-Encoding: zstd\r\n")
    )
    assert status == 400
    assert "zstd" in message_of(path, answer)
    if path == "/v1/messages":
        assert json.loads(answer)["type"] == "error"
    assert upstream.chat_requests == []


@pytest.mark.parametrize(
    "body", [gzip.compress(CHAT)[:-4], gzip.compress(CHAT) + b"xx"], ids=["cut short", "data after it"]
)
async def test_a_gzip_body_is_held_to_the_same_rule(gateway: GatewayServer, upstream: FakeOpenAI, body: bytes) -> None:
    """Once dropped without a word: the part after the stream, or the end the client never sent."""
    status, _, answer = await raw(port_of(gateway), post(port_of(gateway), body, headers="Content-Encoding: gzip\r\n"))
    assert status == 400 and "gzip" in message_of("/v1/chat/completions", answer)
    assert upstream.chat_requests == []


# --- requests refused before routing: the log and the ledger -------------------------------------


def ledger(gateway: GatewayServer) -> list[dict[str, Any]]:
    assert gateway.state is not None
    gateway.state.db.writer.flush()
    conn = sqlite3.connect(gateway.state.db.path)
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute("SELECT * FROM usage ORDER BY id")]


async def test_a_refused_request_is_logged_at_info_and_counted_with_its_status(
    start_gateway: StartGateway, upstream: FakeOpenAI, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    data = tmp_path / "data"  # where the report command finds the ledger
    data.mkdir(mode=0o700)
    config = "[server]\nmax_body_mb = 0.01\n" + provider_table("fake", upstream)
    gw = await start_gateway(config, {"FAKE_KEY": FAKE_KEY}, data_dir=data)
    bad_role = b'{"model":"fake/gpt-test","max_tokens":5,"messages":[{"role":"wizard","content":"x"}]}'
    secret = "Authorization: Bearer sk-client-secret-never-logged\r\n"
    with caplog.at_level(logging.INFO, logger="gateway.api"):
        assert (await raw(port_of(gw), post(port_of(gw), b"{not json", headers=secret)))[0] == 400
        assert (await raw(port_of(gw), post(port_of(gw), bad_role, path="/v1/messages")))[0] == 400
        text_plain = post(port_of(gw), path="/api/chat").replace(b"application/json", b"text/plain")
        assert (await raw(port_of(gw), text_plain))[0] == 415
        assert (await raw(port_of(gw), post(port_of(gw), b'{"model":"fake/gpt-test","x":"' + b"a" * 20_000 + b'"}')))[
            0
        ] == 413
    rows = ledger(gw)
    found = [(r["kind"], r["protocol"], r["model"], r["status"], r["error"], r["caller"]) for r in rows]
    assert found == [
        ("request", "openai-chat", "", 400, "invalid_request_error", "local"),
        ("request", "anthropic", "fake/gpt-test", 400, "invalid_request_error", "local"),
        ("request", "ollama", "", 415, "unsupported_media_type", "local"),
        ("request", "openai-chat", "", 413, "payload_too_large", "local"),
    ]
    refusals = [r for r in caplog.records if r.levelno == logging.INFO and "refused" in r.getMessage()]
    assert len(refusals) == 4
    first = refusals[0].getMessage()
    assert "POST '/v1/chat/completions'" in first and "HTTP 400" in first and rows[0]["request_id"] in first
    assert "role" in refusals[1].getMessage() and "HTTP 415" in refusals[2].getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "sk-client-secret" not in logged and "{not json" not in logged
    assert upstream.chat_requests == []
    await gw.stop()
    report = run(tmp_path, "report", "--view", "recent")
    assert report.returncode == 0, report.stderr
    assert "unsupported_media_type" in report.stdout and "payload_too_large" in report.stdout


async def test_a_request_the_pipeline_refuses_is_counted_once(
    start_gateway: StartGateway, upstream: FakeOpenAI, anthropic_upstream: FakeAnthropic
) -> None:
    """Refused after it was admitted (no route can embed for an Anthropic model): the pipeline's
    own row, and no second one from the entry."""
    gw = await start_gateway(
        provider_table("fake", upstream) + provider_table("claude", anthropic_upstream),
        {"FAKE_KEY": FAKE_KEY, "CLAUDE_KEY": "sk-ant-fake-upstream-0001"},
    )
    body = b'{"model":"claude/claude-test","input":"hi"}'
    status, _, answer = await raw(port_of(gw), post(port_of(gw), body, path="/v1/embeddings"))
    assert status == 400, answer
    rows = ledger(gw)
    assert [(r["model"], r["status"]) for r in rows] == [("claude/claude-test", 400)]


async def test_a_refusal_before_the_caller_is_known_is_not_counted(gateway: GatewayServer) -> None:
    """A foreign Host is an attack, not a user's tool: no row for whoever sent it."""
    assert (await raw(port_of(gateway), post(port_of(gateway), host="evil.example")))[0] == 403
    assert (await raw(port_of(gateway), post(port_of(gateway), host="a/b")))[0] == 400
    assert ledger(gateway) == []
