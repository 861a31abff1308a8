"""The official ``openai`` SDK, used as a real client would, against the gateway."""

from __future__ import annotations

import json

import aiohttp
import openai
import pytest
from conftest import FAKE_KEY, StartGateway, error_body, provider_table
from fakes.openai_upstream import TOOL_CALLS, FakeOpenAI
from fakes.upstream import Script
from openai.types.chat import (
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)

from gateway import GatewayServer

WEATHER_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]


def client(gateway: GatewayServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key="not-needed-on-loopback", max_retries=0)


async def test_chat_completion(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    reply = await client(gateway).chat.completions.create(model="fake/gpt-test", messages=HELLO)
    assert reply.choices[0].message.content == "Hello from the fake upstream!"
    assert reply.usage is not None and reply.usage.total_tokens == 19
    assert (gateway.gateway.totals.prompt_tokens, gateway.gateway.totals.completion_tokens) == (12, 7)
    details = reply.usage.prompt_tokens_details
    assert details is not None and details.cached_tokens == 4
    sent = upstream.chat_requests[-1]
    assert sent.json["model"] == "gpt-test"  # provider prefix removed upstream
    assert sent.headers["Authorization"] == "Bearer sk-fake-upstream-key-0001"


async def test_bare_model_name_resolves_to_the_provider_that_lists_it(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    reply = await client(gateway).chat.completions.create(model="gpt-other", messages=HELLO)
    assert reply.choices[0].message.content
    assert upstream.chat_requests[-1].json["model"] == "gpt-other"


async def test_every_field_passes_through_unchanged_except_model(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    await client(gateway).chat.completions.create(
        model="fake/gpt-test",
        messages=[{"role": "developer", "content": "Be brief."}, *HELLO],
        temperature=0.25,
        top_p=0.5,
        max_completion_tokens=77,
        seed=42,
        stop=["\n\n"],
        user="someone",
        metadata={"team": "a"},
        extra_body={"vendor_extension": {"nested": [1, 2.5, "three"]}, "reasoning_effort": "low"},
    )
    sent = upstream.chat_requests[-1].json
    assert sent == {
        "model": "gpt-test",
        "messages": [{"role": "developer", "content": "Be brief."}, *HELLO],
        "temperature": 0.25,
        "top_p": 0.5,
        "max_completion_tokens": 77,
        "seed": 42,
        "stop": ["\n\n"],
        "user": "someone",
        "metadata": {"team": "a"},
        "vendor_extension": {"nested": [1, 2.5, "three"]},
        "reasoning_effort": "low",
    }


@pytest.mark.parametrize("stream", [False, True])
async def test_the_upstream_gets_the_clients_bytes_with_only_the_model_changed(
    gateway: GatewayServer, upstream: FakeOpenAI, stream: bool
) -> None:
    raw = (
        '{"messages": [ {"role": "user", "content": "caf\\u00e9"} ],\n "model" : "fake/gpt-test", '
        f'"temperature": 1.50, "stream": {str(stream).lower()}}}'
    ).encode()
    url = f"{gateway.url}/v1/chat/completions"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=raw, headers={"Content-Type": "application/json"}) as reply,
    ):
        assert reply.status == 200
        await reply.read()
    expected = raw.replace(b'"fake/gpt-test"', b'"gpt-test"')
    if stream:  # the gateway asks for the usage chunk it needs to count the answer
        expected = expected[:-1] + b',"stream_options":{"include_usage":true}}'
    assert upstream.chat_requests[-1].body == expected


async def test_stream_relays_text_and_hides_the_usage_chunk_nobody_asked_for(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    stream = await client(gateway).chat.completions.create(model="fake/gpt-test", messages=HELLO, stream=True)
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the fake upstream!"
    assert all(c.choices for c in chunks), "the usage-only chunk leaked to a client that did not ask"
    assert chunks[-1].choices[0].finish_reason == "stop"
    # ...but the gateway asked the upstream for usage, and counted it.
    assert upstream.chat_requests[-1].json["stream_options"] == {"include_usage": True}
    totals = gateway.gateway.totals
    assert (totals.requests, totals.prompt_tokens, totals.completion_tokens) == (1, 12, 5)


async def test_stream_keeps_the_usage_chunk_when_the_client_asks(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    stream = await client(gateway).chat.completions.create(
        model="fake/gpt-test", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 17


async def test_tools_round_trip(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    reply = await client(gateway).chat.completions.create(
        model="fake/gpt-test", messages=HELLO, tools=[WEATHER_TOOL], tool_choice="auto", parallel_tool_calls=True
    )
    calls = [
        c for c in reply.choices[0].message.tool_calls or () if isinstance(c, ChatCompletionMessageFunctionToolCall)
    ]
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == list(TOOL_CALLS)
    assert reply.choices[0].finish_reason == "tool_calls"
    assert upstream.chat_requests[-1].json["tools"] == [WEATHER_TOOL]


async def test_streamed_tool_call_deltas_reassemble_exactly(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    stream = await client(gateway).chat.completions.create(
        model="fake/gpt-test", messages=HELLO, tools=[WEATHER_TOOL], stream=True
    )
    calls: dict[int, dict[str, str]] = {}
    finish = None
    async for chunk in stream:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or ():
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                call["id"] += delta.id or ""
                call["name"] += (delta.function.name or "") if delta.function else ""
                call["arguments"] += (delta.function.arguments or "") if delta.function else ""
            finish = choice.finish_reason or finish
    assert [(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items())] == list(TOOL_CALLS)
    assert all(json.loads(c["arguments"]) for c in calls.values())
    assert finish == "tool_calls"


async def test_embeddings_float(gateway: GatewayServer) -> None:
    reply = await client(gateway).embeddings.create(
        model="fake/text-embed-test", input=["a", "b"], encoding_format="float"
    )
    assert [len(d.embedding) for d in reply.data] == [8, 8]
    assert reply.data[1].embedding[0] == pytest.approx(0.25)


async def test_embeddings_sdk_default_base64(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    # The SDK asks for base64 by default and decodes it itself.
    reply = await client(gateway).embeddings.create(model="fake/text-embed-test", input="hello", dimensions=4)
    assert reply.data[0].embedding == pytest.approx([0.125, 0.375, 0.625, 0.875])
    assert upstream.requests[-1].json["encoding_format"] == "base64"


async def test_embeddings_base64_from_a_server_that_ignores_the_parameter(start_gateway: StartGateway) -> None:
    fake = await FakeOpenAI(key=None, ignore_encoding_format=True).start()
    try:
        gw = await start_gateway(
            f'[providers.lax]\nkind = "openai-compatible"\nbase_url = "{fake.url}"\nlocal = true\n'
        )
        reply = await client(gw).embeddings.create(model="lax/text-embed-test", input="hello", dimensions=3)
        assert reply.data[0].embedding == pytest.approx([0.125, 0.375, 0.625])
    finally:
        await fake.stop()


async def test_models_list_and_retrieve(gateway: GatewayServer) -> None:
    models = [m.id async for m in client(gateway).models.list()]
    assert models == ["fake/gpt-test", "fake/gpt-other", "fake/text-embed-test"]
    one = await client(gateway).models.retrieve("fake/gpt-test")
    assert one.id == "fake/gpt-test" and one.owned_by == "fake"


async def test_unknown_model_is_404_naming_it(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client(gateway).chat.completions.create(model="no-such-model", messages=HELLO)
    assert "no-such-model" in caught.value.message
    assert error_body(caught.value.body)["code"] == "model_not_found"
    assert error_body(caught.value.body)["param"] == "model"
    assert upstream.chat_requests == []
    with pytest.raises(openai.NotFoundError):
        await client(gateway).models.retrieve("fake/no-such-model")


async def test_invalid_field_is_400_naming_it(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client(gateway).chat.completions.create(
            model="fake/gpt-test", messages=HELLO, extra_body={"max_tokens": True}
        )
    assert error_body(caught.value.body)["param"] == "max_tokens"
    assert upstream.chat_requests == []


async def test_rate_limit_keeps_retry_after(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(
        Script(
            "status",
            status=429,
            body=json.dumps(
                {
                    "error": {
                        "message": "Rate limit reached for requests",
                        "type": "requests",
                        "param": None,
                        "code": "rate_limit_exceeded",
                    }
                }
            ).encode(),
            headers={"retry-after": "7", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6.5s"},
        )
    )
    with pytest.raises(openai.RateLimitError) as caught:
        await client(gateway).chat.completions.create(model="fake/gpt-test", messages=HELLO)
    assert caught.value.response.headers["retry-after"] == "7"
    assert error_body(caught.value.body)["code"] == "rate_limit_exceeded"
    assert "Rate limit reached" in caught.value.message
    assert caught.value.response.headers["x-request-id"].startswith("req_")


async def test_server_error_keeps_its_status(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(
        Script(
            "status",
            status=503,
            body=b'{"error":{"message":"The engine is currently overloaded","type":"server_error"}}',
        )
    )
    with pytest.raises(openai.InternalServerError) as caught:
        await client(gateway).chat.completions.create(model="fake/gpt-test", messages=HELLO)
    assert caught.value.status_code == 503
    assert "overloaded" in caught.value.message


async def test_html_error_page_becomes_json_without_the_html(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(
        Script("status", status=502, body=b"<html><h1>502 Bad Gateway</h1>cloudflare</html>", content_type="text/html")
    )
    with pytest.raises(openai.APIStatusError) as caught:
        await client(gateway).chat.completions.create(model="fake/gpt-test", messages=HELLO)
    assert caught.value.status_code == 502
    assert "HTML page" in caught.value.message and "cloudflare" not in caught.value.message


async def test_unreachable_upstream_is_502(start_gateway: StartGateway) -> None:
    gw = await start_gateway(
        '[providers.gone]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\nlocal = true\n'
        'models = ["m"]\n'
    )
    with pytest.raises(openai.APIStatusError) as caught:
        await client(gw).chat.completions.create(model="gone/m", messages=HELLO)
    assert caught.value.status_code == 502
    assert error_body(caught.value.body)["code"] == "upstream_unreachable"


async def test_upstream_timeout_is_504(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(Script("hang"))
    with pytest.raises(openai.APIStatusError) as caught:
        await client(gateway).chat.completions.create(model="fake/gpt-test", messages=HELLO)
    assert caught.value.status_code == 504
    assert error_body(caught.value.body)["code"] == "upstream_timeout"


async def test_error_mid_stream_reaches_the_sdk_as_an_error(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(Script("reset", after_events=3))
    stream = await client(gateway).chat.completions.create(model="fake/gpt-test", messages=HELLO, stream=True)
    received = []
    with pytest.raises(openai.APIError) as caught:
        async for chunk in stream:
            received.append(chunk)
    assert len(received) == 3
    assert "broke off" in caught.value.message


async def test_models_list_survives_an_unreachable_provider(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gw = await start_gateway(
        provider_table("fake", upstream)
        + '[providers.gone]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\nlocal = true\n',
        {"FAKE_KEY": FAKE_KEY},
    )
    models = [m.id async for m in client(gw).models.list()]
    assert models == ["fake/gpt-test", "fake/gpt-other", "fake/text-embed-test"]


async def test_oversize_request_is_413(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gw = await start_gateway(
        "[server]\nmax_body_mb = 0.05\n" + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}
    )
    with pytest.raises(openai.APIStatusError) as caught:
        await client(gw).chat.completions.create(
            model="fake/gpt-test", messages=[{"role": "user", "content": "x" * 100_000}]
        )
    assert caught.value.status_code == 413
    assert error_body(caught.value.body)["code"] == "payload_too_large"
    assert upstream.chat_requests == []


async def test_several_keys_are_used_in_turn(start_gateway: StartGateway) -> None:
    fake = await FakeOpenAI(key=None).start()  # accepts any key, records which one came
    try:
        gw = await start_gateway(
            f'[providers.pool]\nkind = "openai-compatible"\nbase_url = "{fake.url}"\n'
            'api_key_env = "POOL_KEYS"\nmodels = ["gpt-test"]\n',
            {"POOL_KEYS": "sk-pool-first-0001, sk-pool-second-0002"},
        )
        for n in range(4):  # four conversations (one conversation would keep its key: affinity)
            await client(gw).chat.completions.create(
                model="pool/gpt-test", messages=[{"role": "user", "content": f"hi {n}"}]
            )
        used = [r.headers["Authorization"] for r in fake.chat_requests]
        assert used == ["Bearer sk-pool-first-0001", "Bearer sk-pool-second-0002"] * 2
    finally:
        await fake.stop()
