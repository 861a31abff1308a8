"""An upstream stream that breaks its protocol never ends as a success (issue 20 item 6;
SECURITY.md B35, B36), for every client protocol and every upstream protocol (the passthrough,
which relays events unread, and each translation):

- an event whose data is not JSON (B36) ends the stream with the client protocol's in-stream error
  where it came, rather than being relayed (the OpenAI SDK raised ``JSONDecodeError`` on it) or
  dropped (the translation then ended with ``end_turn`` or ``response.completed``);
- a stream cut off before its terminal event (``[DONE]``, ``message_stop``,
  ``response.completed``, ``done: true``) ends the same way (B35);

and the ledger records each as failed. Before the first event, a malformed one is a 502."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import anthropic
import openai
import pytest
from anthropic.types import MessageParam
from conftest import ANTHROPIC_KEY, FAKE_KEY, StartGateway, provider_table
from fakes.anthropic_upstream import FakeAnthropic
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import FakeUpstream, Script
from openai.types.chat import ChatCompletionMessageParam

from gateway import GatewayServer
from gateway.pipeline.accounting import Ledger
from gateway.store.ledger import LedgerRow

ASK = [{"role": "user", "content": "Say hello"}]
CHAT_ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]
MESSAGES_ASK: list[MessageParam] = [{"role": "user", "content": "Say hello"}]


@dataclass(frozen=True)
class Client:
    path: str
    body: dict[str, Any]
    error: re.Pattern[bytes]  # its in-stream error
    success: re.Pattern[bytes]  # what only a stream that ended whole holds


CLIENTS = {
    "chat": Client(
        "/v1/chat/completions",
        {"messages": ASK},
        re.compile(rb'data: \{"error":\{.*\n\ndata: \[DONE\]\n\n$', re.S),
        re.compile(rb'"finish_reason"\s*:\s*"'),
    ),
    "responses": Client(
        "/v1/responses",
        {"input": "Say hello"},
        re.compile(rb"event: response\.failed\n[^\n]*\n\n$"),
        re.compile(rb"response\.(completed|incomplete)"),
    ),
    "messages": Client(
        "/v1/messages",
        {"max_tokens": 50, "messages": ASK},
        re.compile(rb'event: error\ndata: \{"type":"error".*\n\n$', re.S),
        re.compile(rb"message_stop|stop_reason\"\s*:\s*\""),
    ),
    "ollama": Client(
        "/api/chat", {"messages": ASK}, re.compile(rb'(^|\n)\{"error":"[^\n]*\n$'), re.compile(rb'"done"\s*:\s*true')
    ),
}
UPSTREAMS = {
    "chat": "chat/gpt-test",
    "responses": "resp/gpt-test",
    "messages": "claude/claude-test",
    "ollama": "local/llama3.2:latest",
}
PAIRS = [(c, u) for c in CLIENTS for u in UPSTREAMS]


class Rows:
    """The gateway's ledger, with the final rows kept for the test to read."""

    def __init__(self, ledger: Ledger | None) -> None:
        self._ledger = ledger
        self.final: list[LedgerRow] = []

    def record(self, row: LedgerRow) -> None:
        self.final.append(row)
        if self._ledger is not None:
            self._ledger.record(row)

    def hold(self, row: LedgerRow) -> None:
        if self._ledger is not None:
            self._ledger.hold(row)


@dataclass
class Setup:
    gateway: GatewayServer
    fakes: dict[str, FakeUpstream]
    ledger: list[LedgerRow]

    async def stream(self, client: str, source: str, fault: Script) -> tuple[int, bytes]:
        self.fakes[source].then(fault)
        spec = CLIENTS[client]
        body = {**spec.body, "model": UPSTREAMS[source], "stream": True}
        async with aiohttp.ClientSession() as session, session.post(self.gateway.url + spec.path, json=body) as reply:
            raw = await reply.read()
        await self.gateway.gateway.counted()
        return reply.status, raw


@pytest.fixture
async def setup(
    start_gateway: StartGateway, upstream: FakeOpenAI, anthropic_upstream: FakeAnthropic
) -> AsyncIterator[Setup]:
    local = await FakeOllama().start()
    gateway = await start_gateway(
        provider_table("chat", upstream, extra="read_timeout = 5")
        + provider_table("resp", upstream, extra='protocols = ["openai-responses"]\nread_timeout = 5')
        + provider_table("claude", anthropic_upstream, extra="read_timeout = 5")
        + provider_table("local", local, extra="local = true\nread_timeout = 5"),
        {"CHAT_KEY": FAKE_KEY, "RESP_KEY": FAKE_KEY, "CLAUDE_KEY": ANTHROPIC_KEY},
    )
    rows = Rows(gateway.gateway.accounting.ledger)
    gateway.gateway.accounting.ledger = rows
    yield Setup(
        gateway, {"chat": upstream, "responses": upstream, "messages": anthropic_upstream, "ollama": local}, rows.final
    )
    await local.stop()


def ends_in_error(client: str, status: int, raw: bytes) -> None:
    spec = CLIENTS[client]
    assert status == 200, raw
    assert spec.error.search(raw), raw[-400:]
    assert not spec.success.search(raw), raw


@pytest.mark.parametrize(("client", "source"), PAIRS, ids=[f"{c}-from-{u}" for c, u in PAIRS])
async def test_an_event_that_is_not_json_ends_the_stream_in_error(setup: Setup, client: str, source: str) -> None:
    status, raw = await setup.stream(
        client, source, Script("malformed", after_events=3, delay=0.2)
    )  # once the 200 went out
    ends_in_error(client, status, raw)
    assert b"lost" not in raw and b"not JSON" in raw
    [row] = [r for r in setup.ledger if r.kind == "request"]
    assert row.error == "incomplete"  # the answer is not whole: failed, though its 200 went out


@pytest.mark.parametrize(("client", "source"), PAIRS, ids=[f"{c}-from-{u}" for c, u in PAIRS])
async def test_a_stream_cut_off_before_its_end_ends_in_error(setup: Setup, client: str, source: str) -> None:
    status, raw = await setup.stream(client, source, Script("truncate", after_events=3))
    ends_in_error(client, status, raw)
    [row] = [r for r in setup.ledger if r.kind == "request"]
    assert row.error == "incomplete"


@pytest.mark.parametrize("source", UPSTREAMS)
async def test_a_first_event_that_is_not_json_is_a_502(setup: Setup, source: str) -> None:
    status, raw = await setup.stream("chat", source, Script("malformed", after_events=0))
    assert status == 502 and b"not JSON" in raw and b"upstream_bad_response" in raw
    [row] = [r for r in setup.ledger if r.kind == "request"]
    assert (row.status, row.error) == (502, "upstream_bad_response")


async def test_a_broken_stream_is_not_counted_successful(setup: Setup) -> None:
    """Its 200 went out, but the reports count it failed, as its ledger row's error says."""
    assert (await setup.stream("chat", "chat", Script()))[0] == 200
    assert (await setup.stream("chat", "chat", Script("malformed", after_events=3, delay=0.2)))[0] == 200
    state = setup.gateway.state
    assert state is not None
    await setup.gateway.stop()
    with sqlite3.connect(state.db.path) as conn:
        assert conn.execute("SELECT requests, successful FROM usage_rollup WHERE dim = 'all'").fetchall() == [(2, 1)]


async def test_the_sdks_see_an_api_error_not_a_parse_error(setup: Setup) -> None:
    setup.fakes["chat"].then(Script("malformed", after_events=3, delay=0.2))
    chat = openai.AsyncOpenAI(base_url=f"{setup.gateway.url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.APIError, match="not JSON"):
        async for _ in await chat.chat.completions.create(model="chat/gpt-test", messages=CHAT_ASK, stream=True):
            pass
    setup.fakes["messages"].then(Script("malformed", after_events=3, delay=0.2))
    messages = anthropic.AsyncAnthropic(base_url=setup.gateway.url, api_key="unused", max_retries=0)
    with pytest.raises(anthropic.APIStatusError, match="not JSON"):
        async with messages.messages.stream(model="claude/claude-test", max_tokens=50, messages=MESSAGES_ASK) as stream:
            async for _ in stream:
                pass
