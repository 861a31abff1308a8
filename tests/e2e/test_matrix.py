"""Every client protocol × every upstream protocol, through the gateway, with real client SDKs.

Same-protocol pairs take the passthrough path, the rest are translated through the canonical form;
the scenarios are the same for all (issue 3 §4): plain text with a system prompt and several turns,
streamed and not; parallel tool calls with streamed arguments reassembled exactly; tool results and
a base64 image sent back; reasoning; stop reasons; usage with cached and reasoning tokens; an
upstream refusal and a mid-stream failure, each in the client's own protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from conftest import StartGateway
from fakes.upstream import FakeUpstream, Script
from matrix import PAST_CALLS, PAST_RESULTS, PNG, Answer, Ask, Refused
from matrix.clients import (
    AnthropicClient,
    Client,
    OllamaClient,
    OpenAIChatClient,
    OpenAIResponsesClient,
)
from matrix.upstreams import UPSTREAMS, Upstream

from gateway import GatewayServer

CLIENTS: tuple[type[Client], ...] = (OpenAIChatClient, OpenAIResponsesClient, AnthropicClient, OllamaClient)
TURNS = (("user", "Say hello"), ("assistant", "Hi! How can I help?"), ("user", "Say it again"))


@dataclass
class Pair:
    client: Client
    upstream: Upstream
    fake: FakeUpstream
    gateway: GatewayServer

    @property
    def model(self) -> str:
        return f"up/{self.upstream.model}"

    async def ask(self, **kwargs: object) -> Answer:
        return await self.client.ask(Ask(model=self.model, **kwargs))  # type: ignore[arg-type]

    def check_tool_calls(self, answer: Answer) -> None:
        """Names and arguments exactly; ids too where both sides have them, else ids the
        gateway made up, distinct (the client shows none when its protocol has none)."""
        expected = list(self.upstream.tool_calls)
        assert [(n, a) for _, n, a in answer.tool_calls] == [(n, a) for _, n, a in expected]
        if not self.client.has_tool_ids:
            return
        ids = [i for i, _, _ in answer.tool_calls]
        if self.upstream.tool_ids:
            assert ids == [i for i, _, _ in expected]
        else:
            assert all(ids) and len(set(ids)) == len(ids)

    def check_usage(self, answer: Answer, stream: bool) -> None:
        prompt, completion, cached, reasoning = self.upstream.usage(stream)
        assert (answer.prompt_tokens, answer.completion_tokens) == (prompt, completion)
        if self.client.sees_cached:
            assert answer.cached_tokens == cached
        if self.client.sees_reasoning_tokens:
            assert answer.reasoning_tokens == reasoning
        totals = self.gateway.gateway.totals
        assert (totals.prompt_tokens, totals.completion_tokens, totals.cached_tokens) == (prompt, completion, cached)


@pytest.fixture(
    params=[(c, u) for c in CLIENTS for u in UPSTREAMS],
    ids=[f"{c.name}-to-{u.name}" for c in CLIENTS for u in UPSTREAMS],
)
async def pair(request: pytest.FixtureRequest, start_gateway: StartGateway) -> AsyncIterator[Pair]:
    client_class, upstream = request.param
    fake: FakeUpstream = await upstream.make().start()
    gateway = await start_gateway(
        f'[providers.up]\nkind = "{fake.kind}"\nbase_url = "{fake.url}"\napi_key_env = "UP_KEY"\nread_timeout = 5\n'
        f"{upstream.config}",
        {"UP_KEY": upstream.key},
    )
    yield Pair(client_class(gateway.url), upstream, fake, gateway)
    await fake.stop()


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_text_with_system_and_turns(pair: Pair, stream: bool) -> None:
    answer = await pair.ask(turns=TURNS, system="Be brief.", stream=stream)
    assert (answer.text, answer.stop, answer.tool_calls) == (pair.upstream.text, "end", [])
    pair.check_usage(answer, stream)
    sent = pair.upstream.read(pair.fake)
    assert (sent.system, sent.turns) == ("Be brief.", list(TURNS))


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_parallel_tool_calls(pair: Pair, stream: bool) -> None:
    answer = await pair.ask(tools=True, stream=stream)
    assert answer.stop == "tool"
    pair.check_tool_calls(answer)
    pair.check_usage(answer, stream)
    assert pair.upstream.read(pair.fake).tool_names == ["get_weather", "get_time"]


async def test_tool_results_and_an_image_reach_the_upstream(pair: Pair) -> None:
    await pair.ask(tools=True, image=True, tool_round=True)
    sent = pair.upstream.read(pair.fake)
    assert sent.images == [("image/png", PNG)]
    assert [(n, a) for _, n, a in sent.tool_calls] == [(n, a) for _, n, a in PAST_CALLS]
    assert [text for _, text in sent.tool_results] == [text for _, text in PAST_RESULTS]
    if pair.client.has_tool_ids:
        assert sent.tool_calls == list(PAST_CALLS) and sent.tool_results == list(PAST_RESULTS)
    else:  # each result still names its call
        assert [i for i, _ in sent.tool_results] == [i for i, _, _ in sent.tool_calls]
    assert sent.turns[0] == ("user", "Say hello")


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_reasoning(pair: Pair, stream: bool) -> None:
    answer = await pair.ask(reasoning=True, stream=stream)
    assert pair.upstream.read(pair.fake).reasoning_asked
    assert answer.reasoning == pair.upstream.reasoning
    assert answer.text == pair.upstream.text


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_cut_short_by_max_tokens(pair: Pair, stream: bool) -> None:
    answer = await pair.ask(max_tokens=2, stream=stream)
    assert (answer.text, answer.stop) == (pair.upstream.short_text, "length")
    assert pair.upstream.read(pair.fake).max_tokens == 2


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_upstream_refusal_in_the_clients_protocol(pair: Pair, stream: bool) -> None:
    pair.fake.fail(429, pair.upstream.rate_limit_kind, "slow down please", headers={"retry-after": "7"})
    with pytest.raises(Refused) as caught:
        await pair.ask(stream=stream)
    refused = caught.value
    assert (refused.status, refused.in_stream) == (429, False)
    if pair.client.sees_headers:
        assert refused.retry_after == "7"
    assert "slow down please" in refused.message


async def test_mid_stream_failure_in_the_clients_protocol(pair: Pair) -> None:
    pair.fake.then(Script("error_event", after_events=3, delay=0.2))  # after the 200 went out
    with pytest.raises(Refused) as caught:
        await pair.ask(stream=True)
    assert caught.value.in_stream
    assert pair.upstream.stream_failure in caught.value.message
