"""Answers whose upstream reports no usage are counted by the gateway and marked estimated, on
the passthrough path as on the translated one, streamed or not."""

from __future__ import annotations

import anthropic
import openai
import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import TEXT, FakeOpenAI

from gateway import GatewayServer, tokens

HELLO = [{"role": "user", "content": "Say hello to everyone in the room, please."}]


@pytest.fixture
async def gateway(start_gateway: StartGateway, upstream: FakeOpenAI) -> GatewayServer:
    upstream.omit_usage = True
    return await start_gateway(provider_table("fake", upstream, extra="stream_usage = false"), {"FAKE_KEY": FAKE_KEY})


def expected_completion() -> int:
    return tokens.count_text(TEXT, "gpt-test")


async def settled(gateway: GatewayServer) -> None:
    await gateway.gateway.counted()


@pytest.mark.parametrize("stream", [False, True])
async def test_passthrough_answers_without_usage_are_counted(gateway: GatewayServer, upstream: FakeOpenAI, stream: bool) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key="x", max_retries=0)
    if stream:
        async for _ in await sdk.chat.completions.create(model="fake/gpt-test", messages=HELLO, stream=True):  # type: ignore[arg-type]
            pass
        assert "stream_options" not in upstream.chat_requests[-1].json  # the provider does not take it
    else:
        await sdk.chat.completions.create(model="fake/gpt-test", messages=HELLO)  # type: ignore[arg-type]
    await settled(gateway)
    totals = gateway.gateway.totals
    assert (totals.requests, totals.estimated, totals.unreported) == (1, 1, 0)
    assert totals.completion_tokens == expected_completion()
    assert 10 <= totals.prompt_tokens <= 30  # the message, counted with the chat framing


@pytest.mark.parametrize("stream", [False, True])
async def test_translated_answers_without_usage_are_counted(gateway: GatewayServer, stream: bool) -> None:
    sdk = anthropic.AsyncAnthropic(base_url=gateway.url, api_key="x", max_retries=0)
    if stream:
        async with sdk.messages.stream(model="fake/gpt-test", max_tokens=50, messages=HELLO) as events:  # type: ignore[arg-type]
            await events.get_final_message()
    else:
        await sdk.messages.create(model="fake/gpt-test", max_tokens=50, messages=HELLO)  # type: ignore[arg-type]
    await settled(gateway)
    totals = gateway.gateway.totals
    assert (totals.estimated, totals.completion_tokens) == (1, expected_completion())
    assert totals.prompt_tokens > 0
