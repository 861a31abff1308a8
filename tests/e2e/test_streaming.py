"""Streams are relayed event by event, end cleanly, fail in-band, and let go of the upstream."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script

from gateway import GatewayServer

BODY = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def data_events(raw: bytes) -> list[bytes]:
    return [block[6:] for block in raw.split(b"\n\n") if block.startswith(b"data: ")]


async def read_until(response: aiohttp.ClientResponse, marker: bytes, timeout: float = 2.0) -> bytes:
    got = b""
    async with asyncio.timeout(timeout):
        while marker not in got:
            chunk = await response.content.readany()
            assert chunk, f"stream ended before {marker!r}; got {got!r}"
            got += chunk
    return got


async def test_first_event_arrives_while_the_upstream_holds_the_next(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    upstream.then(Script("held", after_events=2))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=BODY) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["x-request-id"].startswith("req_")
        first = await read_until(response, b'"Hello"')
        assert upstream.holding.is_set() and not upstream.gate.is_set()
        assert b" from" not in first  # the held events have not been produced yet
        upstream.gate.set()
        rest = await response.read()
    events = data_events(first + rest)
    assert events[-1] == b"[DONE]"
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1])
    assert text == "Hello from the fake upstream!"


async def test_client_hanging_up_mid_stream_closes_the_upstream(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(Script("held", after_events=2))
    session = aiohttp.ClientSession()
    response = await session.post(f"{gateway.url}/v1/chat/completions", json=BODY)
    await read_until(response, b'"Hello"')
    response.close()  # the client goes away while the upstream is mid-stream
    await session.close()
    await asyncio.wait_for(upstream.hung_up.wait(), 1.0)
    assert upstream.hang_ups == 1


async def test_client_hanging_up_before_the_first_byte_closes_the_upstream(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    upstream.then(Script("hang"))
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(session.post(f"{gateway.url}/v1/chat/completions", json=BODY))
        while not upstream.chat_requests:
            await asyncio.sleep(0.01)
        task.cancel()
    await asyncio.wait_for(upstream.hung_up.wait(), 1.0)


async def test_stream_that_ends_without_done_gets_an_error_event(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(Script("truncate", after_events=3))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=BODY) as response,
    ):
        events = data_events(await response.read())
    assert len(events) == 5  # three relayed, our error, [DONE]
    error = json.loads(events[3])["error"]
    assert error["code"] == "upstream_bad_response" and "before it was complete" in error["message"]
    assert events[4] == b"[DONE]"


async def test_upstream_error_event_is_relayed_as_is(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(Script("error_event", after_events=2, delay=0.2))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=BODY) as response,
    ):
        events = data_events(await response.read())
    assert len(events) == 3
    assert json.loads(events[2])["error"]["type"] == "server_error"


async def test_error_event_before_the_client_got_a_byte_becomes_a_proper_status(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    upstream.then(Script("error_event", after_events=0))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=BODY) as response,
    ):
        assert response.status == 502
        body = await response.json()
    assert "error while processing" in body["error"]["message"]


async def test_upstream_going_silent_mid_stream_ends_with_a_timeout_event(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    upstream.then(Script("held", after_events=2))  # never released: silence beyond read_timeout (2 s)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=BODY) as response,
    ):
        events = data_events(await response.read())
    assert json.loads(events[-2])["error"]["code"] == "upstream_timeout"
    assert events[-1] == b"[DONE]"
    await asyncio.wait_for(upstream.hung_up.wait(), 1.0)


async def test_trickling_stream_is_relayed_whole(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(Script("trickle", delay=0.05))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=BODY) as response,
    ):
        events = data_events(await response.read())
    assert events[-1] == b"[DONE]" and len(events) == 8


async def test_non_stream_answer_to_a_stream_request_is_502(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(Script("html_200"))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=BODY) as response,
    ):
        assert response.status == 502
        assert (await response.json())["error"]["code"] == "upstream_bad_response"


def test_the_headers_wait_for_the_first_event() -> None:
    """A stream's headers go out with its first event in one write (and a stream that is whole
    by then, with its end too): the aiohttp switch that does this must still exist."""
    from aiohttp import web

    from gateway.api.streaming import _EventStream

    assert "_send_headers_immediately" in vars(web.StreamResponse)
    assert _EventStream._send_headers_immediately is False
