"""A stream whose upstream is silent — a model thinking before its first token, or between two —
sends its protocol's keep-alive every interval, so nothing between the client and the gateway cuts
it for idleness (issue 20 item 14): an SSE comment for Chat and Responses, Anthropic's ``ping`` for
Messages, a line that adds nothing for Ollama. Then the whole answer follows, and the real SDKs
still read it. The interval is ``[server] stream_keep_alive_seconds`` (15 s; 0.1 s here).

Before the first event the answer is committed only once a whole interval has passed: after that,
failover still goes on behind the keep-alives, and a final failure is the in-stream error."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import anthropic
import ollama
import openai
import pytest
from anthropic.types import MessageParam
from conftest import ANTHROPIC_KEY, FAKE_KEY, StartGateway, provider_table
from fakes import anthropic_upstream as ant
from fakes import ollama_upstream as oll
from fakes import openai_upstream as oai
from fakes import responses_api
from fakes.anthropic_upstream import FakeAnthropic
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import FakeUpstream, Script
from openai.types.chat import ChatCompletionMessageParam

from gateway import GatewayServer

INTERVAL = 0.1
SERVER = f"[server]\nstream_keep_alive_seconds = {INTERVAL}\n"
ASK = [{"role": "user", "content": "Say hello"}]
CHAT_ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]
MESSAGES_ASK: list[MessageParam] = [{"role": "user", "content": "Say hello"}]


@dataclass(frozen=True)
class Client:
    path: str
    body: dict[str, Any]
    keep_alive: re.Pattern[bytes]
    end: re.Pattern[bytes]  # in its stream's last event


CLIENTS = {
    "chat": Client(
        "/v1/chat/completions",
        {"messages": ASK},
        re.compile(rb"^: keep-alive\n\n", re.M),
        re.compile(rb"data: \[DONE\]"),
    ),
    "responses": Client(
        "/v1/responses",
        {"input": "Say hello"},
        re.compile(rb"^: keep-alive\n\n", re.M),
        re.compile(rb"response\.completed"),
    ),
    "messages": Client(
        "/v1/messages",
        {"max_tokens": 50, "messages": ASK},
        re.compile(rb'^event: ping\ndata: \{"type":"ping"\}\n\n', re.M),
        re.compile(rb"message_stop"),
    ),
    "ollama": Client(
        "/api/chat",
        {"messages": ASK},
        re.compile(
            rb'^\{"model":"[^"]+","created_at":"[^"]+","message":\{"role":"assistant","content":""\},"done":false\}\n',
            re.M,
        ),
        re.compile(rb'"done":\s*true'),
    ),
}
UPSTREAMS = {
    "chat": "chat/gpt-test",
    "responses": "resp/gpt-test",
    "messages": "claude/claude-test",
    "ollama": "local/llama3.2:latest",
}
TEXTS = {"chat": oai.TEXT, "responses": responses_api.TEXT, "messages": ant.TEXT, "ollama": oll.TEXT}
PAIRS = [(c, u) for c in CLIENTS for u in UPSTREAMS]


@dataclass
class Setup:
    gateway: GatewayServer
    fakes: dict[str, FakeUpstream]

    def hold(self, source: str, after_events: int = 0) -> FakeUpstream:
        """The upstream ``source`` holds its stream after ``after_events`` events until released."""
        fake = self.fakes[source]
        fake.gate.clear()
        fake.then(Script("held", after_events=after_events))
        return fake

    def release_later(self, fake: FakeUpstream, seconds: float = 5 * INTERVAL) -> None:
        asyncio.get_running_loop().call_later(seconds, fake.gate.set)


@pytest.fixture
async def setup(
    start_gateway: StartGateway, upstream: FakeOpenAI, anthropic_upstream: FakeAnthropic
) -> AsyncIterator[Setup]:
    local = await FakeOllama().start()
    gateway = await start_gateway(
        SERVER
        + provider_table("chat", upstream)
        + provider_table("resp", upstream, extra='protocols = ["openai-responses"]')
        + provider_table("claude", anthropic_upstream)
        + provider_table("local", local, extra="local = true"),
        {"CHAT_KEY": FAKE_KEY, "RESP_KEY": FAKE_KEY, "CLAUDE_KEY": ANTHROPIC_KEY},
    )
    yield Setup(gateway, {"chat": upstream, "responses": upstream, "messages": anthropic_upstream, "ollama": local})
    await local.stop()


async def read_until(response: aiohttp.ClientResponse, done: re.Pattern[bytes], count: int) -> bytes:
    got = b""
    async with asyncio.timeout(5):
        while len(done.findall(got)) < count:
            chunk = await response.content.readany()
            assert chunk, f"the stream ended early: {got!r}"
            got += chunk
    return got


async def streamed_with_silence(
    setup: Setup, client: str, source: str, after_events: int
) -> tuple[aiohttp.ClientResponse, bytes, bytes]:
    """The stream, read until two keep-alives came while the upstream was silent, then whole."""
    fake = setup.hold(source, after_events)
    spec = CLIENTS[client]
    body = {**spec.body, "model": UPSTREAMS[source], "stream": True}
    async with aiohttp.ClientSession() as session, session.post(setup.gateway.url + spec.path, json=body) as response:
        waiting = await read_until(response, spec.keep_alive, 2)
        assert not fake.gate.is_set()
        fake.gate.set()
        rest = await response.read()
    return response, waiting, rest


def text_of(client: str, raw: bytes) -> str:
    """The answer's text, read from the stream as its client would."""
    if client == "ollama":
        return "".join(json.loads(line)["message"]["content"] for line in raw.splitlines() if line.strip())
    out = []
    for data in re.findall(rb"^data: (.*)$", raw, re.M):
        if data == b"[DONE]":
            continue
        event = json.loads(data)
        if client == "chat":
            out += [c["delta"].get("content") or "" for c in event["choices"]]
        elif event.get("type") in ("response.output_text.delta", "content_block_delta"):
            out.append(event["delta"] if client == "responses" else event["delta"].get("text", ""))
    return "".join(out)


@pytest.mark.parametrize(("client", "source"), PAIRS, ids=[f"{c}-from-{u}" for c, u in PAIRS])
async def test_keep_alives_while_the_upstream_thinks_then_the_whole_answer(
    setup: Setup, client: str, source: str
) -> None:
    response, waiting, rest = await streamed_with_silence(setup, client, source, after_events=0)
    assert response.status == 200 and response.headers["Content-Type"].startswith(
        ("text/event-stream", "application/x-ndjson")
    )
    assert CLIENTS[client].keep_alive.match(waiting)  # the stream begins with one: the answer was committed by it
    assert "x-switchboard-route" not in response.headers  # not known when the headers went
    raw = waiting + rest
    assert text_of(client, raw) == TEXTS[source]
    assert CLIENTS[client].end.search(raw.rstrip().rsplit(b"\n", 1)[-1])


@pytest.mark.parametrize(
    ("client", "source"), [("messages", "chat"), ("chat", "chat"), ("ollama", "ollama"), ("responses", "messages")]
)
async def test_keep_alives_in_a_silence_mid_stream(setup: Setup, client: str, source: str) -> None:
    response, waiting, rest = await streamed_with_silence(setup, client, source, after_events=2)
    assert response.headers["x-switchboard-route"].startswith(UPSTREAMS[source].split("/")[0])  # it began with an event
    assert not CLIENTS[client].keep_alive.match(waiting)
    assert text_of(client, waiting + rest) == TEXTS[source]


async def test_a_quick_stream_has_none(setup: Setup) -> None:
    spec = CLIENTS["messages"]
    async with aiohttp.ClientSession() as session:
        reply = await session.post(
            setup.gateway.url + spec.path, json={**spec.body, "model": "chat/gpt-test", "stream": True}
        )
        raw = await reply.read()
    assert b"event: ping" not in raw and reply.headers["x-switchboard-route"] == "chat/gpt-test; key=chat"


async def test_the_sdks_read_answers_that_began_with_keep_alives(setup: Setup) -> None:
    setup.release_later(setup.hold("chat"))
    chat = openai.AsyncOpenAI(base_url=f"{setup.gateway.url}/v1", api_key="unused", max_retries=0)
    pieces = [
        c.choices[0].delta.content or ""
        async for c in await chat.chat.completions.create(model="chat/gpt-test", messages=CHAT_ASK, stream=True)
        if c.choices
    ]
    assert "".join(pieces) == oai.TEXT

    setup.release_later(setup.hold("responses"))
    async with chat.responses.stream(model="resp/gpt-test", input="Say hello") as events:
        assert (await events.get_final_response()).output_text == responses_api.TEXT

    setup.release_later(setup.hold("messages"))
    messages = anthropic.AsyncAnthropic(base_url=setup.gateway.url, api_key="unused", max_retries=0)
    async with messages.messages.stream(model="claude/claude-test", max_tokens=50, messages=MESSAGES_ASK) as stream:
        assert await stream.get_final_text() == ant.TEXT

    setup.release_later(setup.hold("ollama"))
    parts = [
        part.message.content
        async for part in await ollama.AsyncClient(host=setup.gateway.url).chat(
            model="local/llama3.2:latest", messages=ASK, stream=True
        )
    ]
    assert "".join(p or "" for p in parts) == oll.TEXT


async def test_failover_goes_on_behind_keep_alives(
    start_gateway: StartGateway, upstream: FakeOpenAI, anthropic_upstream: FakeAnthropic
) -> None:
    """The first route says nothing until its timeout; the second answers: the client, kept
    waiting with keep-alives meanwhile, gets the second's answer."""
    gateway = await start_gateway(
        SERVER
        + '[aliases]\nsmart = ["slow/gpt-test", "claude/claude-test"]\n'
        + provider_table("slow", upstream, extra="read_timeout = 0.5")
        + provider_table("claude", anthropic_upstream),
        {"SLOW_KEY": FAKE_KEY, "CLAUDE_KEY": ANTHROPIC_KEY},
    )
    upstream.then(Script("hang"))
    async with aiohttp.ClientSession() as session:
        reply = await session.post(
            f"{gateway.url}/v1/chat/completions", json={"model": "smart", "messages": ASK, "stream": True}
        )
        raw = await reply.read()
    assert reply.status == 200 and raw.startswith(b": keep-alive\n\n") and raw.count(b": keep-alive") >= 3
    assert text_of("chat", raw) == ant.TEXT and raw.endswith(b"data: [DONE]\n\n")


async def test_a_failure_once_committed_is_the_in_stream_error(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(
        SERVER + provider_table("slow", upstream, extra="read_timeout = 0.5"), {"SLOW_KEY": FAKE_KEY}
    )
    upstream.then(Script("hang"))
    async with aiohttp.ClientSession() as session:
        reply = await session.post(
            f"{gateway.url}/v1/messages", json={**CLIENTS["messages"].body, "model": "slow/gpt-test", "stream": True}
        )
        raw = await reply.read()
    assert reply.status == 200 and raw.startswith(b"event: ping\n")
    assert re.search(
        rb'event: error\ndata: \{"type":"error","error":\{"type":"[a-z_]+","message":"[^"]*(timed out|time)[^"]*"', raw
    ), raw
