"""Answers whose upstream reports no usage are counted by the gateway and marked estimated, on
the passthrough path as on the translated one, streamed or not; a client that asked for usage in
a stream gets that count."""

from __future__ import annotations

import aiohttp
import anthropic
import openai
import pytest
from anthropic.types import MessageParam
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import TEXT, FakeOpenAI
from openai.types.chat import ChatCompletionMessageParam

from gateway import GatewayServer
from gateway.pipeline import tokens

PROMPT = "Say hello to everyone in the room, please."
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
ANTHROPIC_HELLO: list[MessageParam] = [{"role": "user", "content": PROMPT}]


@pytest.fixture
async def gateway(start_gateway: StartGateway, upstream: FakeOpenAI) -> GatewayServer:
    upstream.omit_usage = True
    return await start_gateway(provider_table("fake", upstream, extra="stream_usage = false"), {"FAKE_KEY": FAKE_KEY})


def expected_completion() -> int:
    return tokens.count_text(TEXT, "gpt-test")


async def settled(gateway: GatewayServer) -> None:
    await gateway.gateway.counted()


@pytest.mark.parametrize("stream", [False, True])
async def test_passthrough_answers_without_usage_are_counted(
    gateway: GatewayServer, upstream: FakeOpenAI, stream: bool
) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key="x", max_retries=0)
    if stream:
        async for _ in await sdk.chat.completions.create(model="fake/gpt-test", messages=HELLO, stream=True):
            pass
        assert "stream_options" not in upstream.chat_requests[-1].json  # the provider does not take it
    else:
        await sdk.chat.completions.create(model="fake/gpt-test", messages=HELLO)
    await settled(gateway)
    totals = gateway.gateway.totals
    assert (totals.requests, totals.estimated, totals.unreported) == (1, 1, 0)
    assert totals.completion_tokens == expected_completion()
    assert 10 <= totals.prompt_tokens <= 30  # the message, counted with the chat framing


@pytest.mark.parametrize("stream", [False, True])
async def test_translated_answers_without_usage_are_counted(gateway: GatewayServer, stream: bool) -> None:
    sdk = anthropic.AsyncAnthropic(base_url=gateway.url, api_key="x", max_retries=0)
    if stream:
        async with sdk.messages.stream(model="fake/gpt-test", max_tokens=50, messages=ANTHROPIC_HELLO) as events:
            await events.get_final_message()
    else:
        await sdk.messages.create(model="fake/gpt-test", max_tokens=50, messages=ANTHROPIC_HELLO)
    await settled(gateway)
    totals = gateway.gateway.totals
    assert (totals.estimated, totals.completion_tokens) == (1, expected_completion())
    assert totals.prompt_tokens > 0


@pytest.fixture
async def no_stream_usage(start_gateway: StartGateway, upstream: FakeOpenAI) -> GatewayServer:
    """In front of a server that ignores stream_options, as llama-cpp-python's does."""
    upstream.stream_usage = False
    return await start_gateway(provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY})


async def test_a_stream_that_asked_for_usage_ends_with_the_gateway_s_count(
    no_stream_usage: GatewayServer, upstream: FakeOpenAI
) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"{no_stream_usage.url}/v1", api_key="x", max_retries=0)
    stream = await sdk.chat.completions.create(
        model="fake/gpt-test",
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert upstream.chat_requests[-1].json["stream_options"] == {"include_usage": True}  # asked for, and ignored
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert (last.id, last.model, last.created) == (chunks[0].id, chunks[0].model, chunks[0].created)
    assert all(chunk.usage is None for chunk in chunks[:-1])
    assert last.usage.completion_tokens == expected_completion()
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    await settled(no_stream_usage)
    totals = no_stream_usage.gateway.totals
    # The ledger holds the same count, still marked as counted here.
    assert (totals.requests, totals.estimated, totals.prompt_tokens, totals.completion_tokens) == (
        1,
        1,
        last.usage.prompt_tokens,
        last.usage.completion_tokens,
    )


async def test_a_stream_that_did_not_ask_for_usage_gets_none(no_stream_usage: GatewayServer) -> None:
    ask = {"model": "fake/gpt-test", "messages": HELLO, "stream": True}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{no_stream_usage.url}/v1/chat/completions", json=ask) as answer,
    ):
        raw = await answer.read()
    assert raw.endswith(b"data: [DONE]\n\n") and b'"usage"' not in raw
    await settled(no_stream_usage)
    assert no_stream_usage.gateway.totals.estimated == 1
