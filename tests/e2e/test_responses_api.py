"""The official ``openai`` SDK's Responses API against the gateway: the stateless surface, the
passthrough to a Responses upstream (which may keep state), and translation to Chat upstreams."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import openai
import pytest
from conftest import FAKE_KEY, StartGateway, error_body, provider_table
from fakes import responses_api
from fakes.openai_upstream import FakeOpenAI
from openai.types.chat import ChatCompletionMessageFunctionToolCall
from openai.types.shared_params import FunctionParameters

from gateway import GatewayServer

CHAT_MODEL = "chat/gpt-test"
RESPONSES_MODEL = "resp/gpt-test"


@pytest.fixture
async def gateway(start_gateway: StartGateway, upstream: FakeOpenAI) -> GatewayServer:
    """The same fake behind two providers: ``chat`` speaks Chat Completions only, ``resp`` the
    Responses API."""
    return await start_gateway(
        provider_table("chat", upstream) + provider_table("resp", upstream, extra='protocols = ["openai-responses"]'),
        {"CHAT_KEY": FAKE_KEY, "RESP_KEY": FAKE_KEY},
    )


def client(gateway: GatewayServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key="client-key", max_retries=0)


async def test_a_plain_string_input_translated_to_chat(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    reply = await client(gateway).responses.create(model=CHAT_MODEL, input="Say hello", instructions="Be brief.")
    assert reply.output_text == "Hello from the fake upstream!"
    assert reply.object == "response" and reply.id.startswith("resp_") and reply.status == "completed"
    assert reply.to_dict()["store"] is False and reply.instructions == "Be brief."  # (a field this SDK leaves out)
    assert reply.output[0].type == "message" and reply.output[0].id.startswith("msg_")
    assert upstream.chat_requests[-1].json["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]


async def test_the_stream_helper_gives_the_final_response(gateway: GatewayServer) -> None:
    async with client(gateway).responses.stream(model=CHAT_MODEL, input="Say hello") as stream:
        deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert "".join(deltas) == final.output_text == "Hello from the fake upstream!"
    assert final.usage is not None and final.usage.input_tokens == 12


async def test_previous_response_id_needs_an_upstream_that_keeps_state(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client(gateway).responses.create(model=CHAT_MODEL, input="Again", previous_response_id="resp_abc")
    body = error_body(caught.value.body)
    assert body["param"] == "previous_response_id" and "whole conversation" in body["message"]
    assert not upstream.chat_requests  # refused before anything went upstream

    first = await client(gateway).responses.create(model=RESPONSES_MODEL, input="Say hello", store=True)
    second = await client(gateway).responses.create(model=RESPONSES_MODEL, input="Again", previous_response_id=first.id)
    assert second.previous_response_id == first.id  # the upstream holds the conversation
    assert upstream.responses_requests[-1].json["previous_response_id"] == first.id


async def test_passthrough_sends_the_clients_bytes_with_only_the_model_changed(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    raw = (
        b'{"model": "resp/gpt-test",\n "input": [{"role": "user", "content": "caf\\u00e9"}], "store": false, '
        b'"include": ["reasoning.encrypted_content"]}'
    )
    url = f"{gateway.url}/v1/responses"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=raw, headers={"Content-Type": "application/json"}) as reply,
    ):
        assert reply.status == 200
        assert (await reply.json())["output"][0]["content"][0]["text"] == responses_api.TEXT
    assert upstream.responses_requests[-1].body == raw.replace(b'"resp/gpt-test"', b'"gpt-test"')


async def test_stored_responses_are_not_kept(gateway: GatewayServer) -> None:
    async with aiohttp.ClientSession() as session:
        for method in ("GET", "DELETE"):
            async with session.request(method, f"{gateway.url}/v1/responses/resp_123") as reply:
                assert reply.status == 404
                assert "does not store responses" in (await reply.json())["error"]["message"]


async def test_what_chat_cannot_carry_is_refused_by_name(gateway: GatewayServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client(gateway).responses.create(model=CHAT_MODEL, input=[{"type": "item_reference", "id": "msg_1"}])
    assert error_body(caught.value.body)["param"] == "input[0]"


async def test_bad_input_is_refused_in_openai_shape(gateway: GatewayServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client(gateway).responses.create(
            model=CHAT_MODEL, input=[{"type": "function_call_output", "output": "x"}]
        )
    assert error_body(caught.value.body)["param"] == "input[0].call_id"


async def test_structured_output_is_translated_both_ways(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"greeting": {"type": "string"}},
        "required": ["greeting"],
        "additionalProperties": False,
    }
    await client(gateway).responses.create(
        model=CHAT_MODEL,
        input="Greet",
        text={"format": {"type": "json_schema", "name": "greeting", "schema": schema, "strict": True}},
    )
    assert upstream.chat_requests[-1].json["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "greeting", "schema": schema, "strict": True},
    }
    await client(gateway).chat.completions.create(
        model=RESPONSES_MODEL,
        messages=[{"role": "user", "content": "Greet"}],
        response_format={"type": "json_schema", "json_schema": {"name": "greeting", "schema": schema}},
    )
    sent = upstream.responses_requests[-1].json
    assert sent["text"] == {"format": {"type": "json_schema", "name": "greeting", "schema": schema}}
    assert sent["store"] is False


async def test_chat_tools_reach_a_responses_upstream_flat_and_not_strict(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    params: FunctionParameters = {"type": "object", "properties": {"city": {"type": "string"}}}
    reply = await client(gateway).chat.completions.create(
        model=RESPONSES_MODEL,
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[{"type": "function", "function": {"name": "get_weather", "description": "d", "parameters": params}}],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    sent = upstream.responses_requests[-1].json
    assert sent["tools"] == [
        {"type": "function", "name": "get_weather", "description": "d", "parameters": params, "strict": False}
    ]
    assert sent["tool_choice"] == {"type": "function", "name": "get_weather"}
    calls = [
        c for c in reply.choices[0].message.tool_calls or () if isinstance(c, ChatCompletionMessageFunctionToolCall)
    ]
    assert [(c.id, json.loads(c.function.arguments)) for c in calls] == [
        (i, json.loads(a)) for i, _, a in responses_api.FUNCTION_CALLS
    ]


CODEX_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "exec_command",
        "description": "Run.",
        "strict": False,
        "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]},
    },
    {
        "type": "namespace",
        "name": "multi_agent_v1",
        "description": "Sub-agents.",
        "tools": [
            {
                "type": "function",
                "name": "wait_agent",
                "description": "Wait.",
                "strict": False,
                "parameters": {"type": "object", "properties": {}},
            }
        ],
    },
    {
        "type": "custom",
        "name": "apply_patch",
        "description": "Edit files.",
        "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"},
    },
    {"type": "web_search", "external_web_access": False},
]


@pytest.mark.parametrize("stream", [False, True])
async def test_codex_tools_reach_a_chat_upstream_and_what_cannot_is_named(
    gateway: GatewayServer, upstream: FakeOpenAI, stream: bool
) -> None:
    """Codex 0.171's default tool set, which a Chat-only upstream answered with a 400 before: the
    namespace and the custom tool become functions, the hosted web search is left out and named
    in a header (issue 19, point 3)."""
    body = {"model": CHAT_MODEL, "input": "fix it", "tools": CODEX_TOOLS, "tool_choice": "auto", "stream": stream}
    async with aiohttp.ClientSession() as session, session.post(f"{gateway.url}/v1/responses", json=body) as reply:
        assert reply.status == 200, await reply.text()
        assert reply.headers["x-switchboard-dropped"] == "tools[3] (web_search)"
        await reply.read()
    sent = upstream.chat_requests[-1].json
    assert [t["function"]["name"] for t in sent["tools"]] == [
        "exec_command",
        "multi_agent_v1__wait_agent",
        "apply_patch",
    ]
    assert "web_search" not in json.dumps(sent)


async def test_forcing_a_hosted_tool_on_a_chat_upstream_is_a_clear_400(gateway: GatewayServer) -> None:
    body = {"model": CHAT_MODEL, "input": "search", "tools": CODEX_TOOLS, "tool_choice": {"type": "web_search"}}
    async with aiohttp.ClientSession() as session, session.post(f"{gateway.url}/v1/responses", json=body) as reply:
        assert reply.status == 400
        error = (await reply.json())["error"]
    assert error["param"] == "tools[3]" and "web_search" in error["message"]
