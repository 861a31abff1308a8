"""The official ``anthropic`` SDK against the gateway, in front of an Anthropic upstream
(passthrough) and an OpenAI-compatible one (translated)."""

from __future__ import annotations

import json

import aiohttp
import anthropic
import pytest
from anthropic.types import ImageBlockParam, MessageParam, TextBlockParam, ToolParam
from conftest import ANTHROPIC_KEY, FAKE_KEY, StartGateway, error_body, provider_table
from fakes.anthropic_upstream import SIGNATURE, TEXT, THINKING, TOOL_TEXT, TOOL_USES, FakeAnthropic
from fakes.openai_upstream import FakeOpenAI

from gateway import GatewayServer

WEATHER: ToolParam = {
    "name": "get_weather",
    "description": "Weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
HELLO: list[MessageParam] = [{"role": "user", "content": "Say hello"}]
ANTHROPIC_MODEL = "ant/claude-test"
OPENAI_MODEL = "fake/gpt-test"


@pytest.fixture
async def gateway(
    start_gateway: StartGateway, upstream: FakeOpenAI, anthropic_upstream: FakeAnthropic
) -> GatewayServer:
    """A gateway with an OpenAI-compatible provider ``fake`` and an Anthropic one ``ant``."""
    timeouts = "read_timeout = 2\nconnect_timeout = 1"
    return await start_gateway(
        provider_table("fake", upstream, extra=timeouts) + provider_table("ant", anthropic_upstream, extra=timeouts),
        {"FAKE_KEY": FAKE_KEY, "ANT_KEY": ANTHROPIC_KEY},
    )


def client(gateway: GatewayServer) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=gateway.url, api_key="client-key-not-needed", max_retries=0)


# --- passthrough: Anthropic client, Anthropic upstream -------------------------------------------


async def test_passthrough_keeps_the_body_and_forwards_version_and_beta(
    gateway: GatewayServer, anthropic_upstream: FakeAnthropic
) -> None:
    system: list[TextBlockParam] = [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    body = {
        "model": ANTHROPIC_MODEL,
        "max_tokens": 64,
        "system": system,
        "messages": HELLO,
        "metadata": {"user_id": "u-1"},
        "vendor_field": {"kept": [1, 2.5]},
    }
    reply = await client(gateway).messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=64,
        system=system,
        messages=HELLO,
        metadata={"user_id": "u-1"},
        extra_body={"vendor_field": {"kept": [1, 2.5]}},
        extra_headers={"anthropic-version": "2023-06-01", "anthropic-beta": "interleaved-thinking-2025-05-14"},
    )
    assert reply.content[0].type == "text" and reply.content[0].text == TEXT
    assert reply.stop_reason == "end_turn"
    sent = anthropic_upstream.message_requests[-1]
    assert sent.json == body | {"model": "claude-test"}
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert sent.headers["x-api-key"] == ANTHROPIC_KEY  # the provider's key, never the client's
    assert "client-key-not-needed" not in json.dumps(sent.headers)
    assert (reply.usage.input_tokens, reply.usage.cache_read_input_tokens, reply.usage.cache_creation_input_tokens) == (
        21,
        8,
        3,
    )
    totals = gateway.gateway.totals
    assert (totals.prompt_tokens, totals.cached_tokens, totals.completion_tokens) == (32, 8, 17)


async def test_passthrough_stream_reassembles_thinking_text_and_tools(gateway: GatewayServer) -> None:
    async with client(gateway).messages.stream(
        model=ANTHROPIC_MODEL,
        max_tokens=2048,
        messages=HELLO,
        tools=[WEATHER],
        thinking={"type": "enabled", "budget_tokens": 1024},
    ) as stream:
        final = await stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text", "tool_use", "tool_use"]
    thinking = final.content[0]
    assert thinking.type == "thinking" and (thinking.thinking, thinking.signature) == (THINKING, SIGNATURE)
    assert [(b.id, b.name, b.input) for b in final.content[2:] if b.type == "tool_use"] == list(TOOL_USES)
    assert final.stop_reason == "tool_use"
    assert final.usage.output_tokens == 17
    totals = gateway.gateway.totals
    assert (totals.prompt_tokens, totals.cached_tokens, totals.completion_tokens) == (32, 8, 17)


async def test_passthrough_stream_is_the_upstream_stream_byte_for_byte(
    gateway: GatewayServer, anthropic_upstream: FakeAnthropic
) -> None:
    body = {
        "model": ANTHROPIC_MODEL,
        "max_tokens": 2048,
        "messages": HELLO,
        "stream": True,
        "tools": [WEATHER],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    headers = {"anthropic-version": "2023-06-01", "x-api-key": "client-key"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{gateway.url}/v1/messages", json=body, headers=headers) as through:
            relayed = await through.read()
            assert through.headers["Content-Type"].startswith("text/event-stream")
        async with session.post(
            f"{anthropic_upstream.url}/v1/messages",
            json=body | {"model": "claude-test"},
            headers=headers | {"x-api-key": ANTHROPIC_KEY},
        ) as direct:
            original = await direct.read()
    assert relayed == original
    names = [line[7:] for line in relayed.decode().splitlines() if line.startswith("event: ")]
    assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]


async def test_count_tokens_asks_an_anthropic_upstream(
    gateway: GatewayServer, anthropic_upstream: FakeAnthropic
) -> None:
    counted = await client(gateway).messages.count_tokens(model=ANTHROPIC_MODEL, messages=HELLO)
    assert counted.input_tokens == 1000 + len(json.dumps(HELLO))
    sent = anthropic_upstream.requests_to("/count_tokens")[-1]
    assert sent.json == {"model": "claude-test", "messages": HELLO}


@pytest.mark.parametrize(
    ("status", "kind", "error_class"),
    [
        (429, "rate_limit_error", anthropic.RateLimitError),
        (529, "overloaded_error", anthropic.InternalServerError),
        (400, "invalid_request_error", anthropic.BadRequestError),
    ],
)
async def test_upstream_errors_keep_their_anthropic_type(
    gateway: GatewayServer,
    anthropic_upstream: FakeAnthropic,
    status: int,
    kind: str,
    error_class: type[anthropic.APIStatusError],
) -> None:
    anthropic_upstream.fail(status, kind, "the upstream said no", headers={"retry-after": "7"})
    with pytest.raises(error_class) as caught:
        await client(gateway).messages.create(model=ANTHROPIC_MODEL, max_tokens=10, messages=HELLO)
    assert caught.value.status_code == status
    body = error_body(caught.value.body)
    assert body["type"] == "error" and body["error"]["type"] == kind
    assert "the upstream said no" in body["error"]["message"]
    if status in (429, 529):
        assert caught.value.response.headers["retry-after"] == "7"


async def test_translated_text_with_system_and_usage(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    reply = await client(gateway).messages.create(
        model=OPENAI_MODEL,
        max_tokens=100,
        system="Be brief.",
        stop_sequences=["\n\n"],
        extra_body={"temperature": 0.5},
        messages=[*HELLO, {"role": "assistant", "content": "Hi!"}, {"role": "user", "content": "Again"}],
    )
    assert reply.type == "message" and reply.role == "assistant"
    text = reply.content[0]
    assert text.type == "text" and text.text == "Hello from the fake upstream!"
    assert len(reply.content) == 1
    assert reply.stop_reason == "end_turn" and reply.model == OPENAI_MODEL
    # prompt 12 of which 4 cached: Anthropic's input_tokens excludes the cache
    assert (reply.usage.input_tokens, reply.usage.cache_read_input_tokens, reply.usage.output_tokens) == (8, 4, 7)
    sent = upstream.chat_requests[-1].json
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": "Again"},
    ]
    assert (sent["model"], sent["max_tokens"], sent["stop"], sent["temperature"]) == ("gpt-test", 100, ["\n\n"], 0.5)


async def test_translated_tool_definitions_and_choice(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    await client(gateway).messages.create(
        model=OPENAI_MODEL,
        max_tokens=100,
        messages=HELLO,
        tools=[WEATHER],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
    )
    sent = upstream.chat_requests[-1].json
    assert (sent["tool_choice"], sent["parallel_tool_calls"]) == ("required", False)
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather in a city",
                "parameters": WEATHER["input_schema"],
            },
        }
    ]


async def test_translated_tool_results_go_back_as_tool_messages(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    image: ImageBlockParam = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
    await client(gateway).messages.create(
        model=OPENAI_MODEL,
        max_tokens=100,
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "Weather?"}, image]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "21C"}]},
                    {"type": "text", "text": "Which is warmer?"},
                ],
            },
        ],
    )
    messages = upstream.chat_requests[-1].json["messages"]
    assert messages[0] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Weather?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ],
    }
    assert messages[1]["content"] == "Checking."
    assert [(c["id"], json.loads(c["function"]["arguments"])) for c in messages[1]["tool_calls"]] == [
        ("toolu_1", {"city": "Paris"}),
        ("toolu_2", {"city": "Rome"}),
    ]
    assert messages[2:] == [
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": "21C"},
        {"role": "user", "content": "Which is warmer?"},
    ]


async def test_an_openai_not_found_is_an_anthropic_not_found(gateway: GatewayServer) -> None:
    with pytest.raises(anthropic.NotFoundError) as missing:
        await client(gateway).messages.create(model="fake/no-such-model", max_tokens=10, messages=HELLO)
    assert error_body(missing.value.body)["error"]["type"] == "not_found_error"


async def test_count_tokens_counts_locally_for_other_upstreams(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    small = await client(gateway).messages.count_tokens(model=OPENAI_MODEL, messages=HELLO)
    large = await client(gateway).messages.count_tokens(
        model=OPENAI_MODEL, messages=HELLO, system="word " * 200, tools=[WEATHER]
    )
    assert 0 < small.input_tokens < 20
    assert large.input_tokens > small.input_tokens + 200
    assert not upstream.chat_requests  # nothing went upstream


async def test_a_translated_stream_starts_with_the_prompt_as_counted_here(gateway: GatewayServer) -> None:
    system = "word " * 300
    messages: list[MessageParam] = [
        *HELLO,
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": "Again"},
    ]
    counted = await client(gateway).messages.count_tokens(
        model=OPENAI_MODEL, system=system, messages=messages, tools=[WEATHER]
    )
    async with client(gateway).messages.stream(
        model=OPENAI_MODEL, max_tokens=100, system=system, messages=messages, tools=[WEATHER]
    ) as stream:
        started = [e.message.usage async for e in stream if e.type == "message_start"]
        final = await stream.get_final_message()
    assert [u.input_tokens for u in started] == [counted.input_tokens]  # what a context meter reads at once
    assert counted.input_tokens > 300
    assert final.usage.input_tokens == 12  # the upstream's own count, in message_delta


async def test_bad_requests_answer_in_anthropic_shape(gateway: GatewayServer) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        await client(gateway).messages.create(  # the SDK's types allow no such role: it goes in as an extra
            model=OPENAI_MODEL,
            max_tokens=10,
            messages=HELLO,
            extra_body={"messages": [{"role": "robot", "content": "x"}]},
        )
    body = error_body(caught.value.body)
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"


async def test_bearer_and_x_api_key_clients_are_both_served(
    gateway: GatewayServer, anthropic_upstream: FakeAnthropic
) -> None:
    bearer = anthropic.AsyncAnthropic(base_url=gateway.url, auth_token="oauth-token-from-client", max_retries=0)
    reply = await bearer.messages.create(model=ANTHROPIC_MODEL, max_tokens=10, messages=HELLO)
    assert reply.content[0].type == "text" and reply.content[0].text == TEXT
    sent = anthropic_upstream.message_requests[-1].headers
    assert "oauth-token-from-client" not in json.dumps(sent)
    assert "Authorization" not in sent


async def test_model_list_in_anthropic_shape_names_every_provider(gateway: GatewayServer) -> None:
    ids = [m.id async for m in client(gateway).models.list()]
    assert {"ant/claude-test", "ant/claude-other", "fake/gpt-test", "fake/gpt-other"} <= set(ids)


async def test_tool_use_answer_from_an_anthropic_upstream_untouched(gateway: GatewayServer) -> None:
    reply = await client(gateway).messages.create(
        model=ANTHROPIC_MODEL, max_tokens=100, messages=HELLO, tools=[WEATHER]
    )
    assert [b.type for b in reply.content] == ["text", "tool_use", "tool_use"]
    assert reply.content[0].type == "text" and reply.content[0].text == TOOL_TEXT


async def test_passthrough_sends_the_clients_bytes_with_only_the_model_changed(
    gateway: GatewayServer, anthropic_upstream: FakeAnthropic
) -> None:
    raw = (
        b'{\n  "max_tokens": 64,\n  "messages": [{"role": "user", "content": "caf\\u00e9 \\ud83d\\ude00"}],\n'
        b'  "model": "ant/claude-test",\n  "temperature": 1.0,\n  "metadata": {"user_id": "u"}\n}\n'
    )
    headers = {"anthropic-version": "2023-06-01", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/messages", data=raw, headers=headers) as reply,
    ):
        assert reply.status == 200
    assert anthropic_upstream.message_requests[-1].body == raw.replace(b'"ant/claude-test"', b'"claude-test"')
