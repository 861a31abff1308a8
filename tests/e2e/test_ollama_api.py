"""The official ``ollama`` SDK against the gateway's Ollama surface, with hosted and Ollama
upstreams behind it, and the native passthrough to an Ollama upstream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import ollama
import pytest
from anthropic.types import MessageParam
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes import ollama_upstream as oll
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI

from gateway import GatewayServer
from gateway.formats.ollama.models import COMPATIBLE_VERSION

HELLO = [{"role": "user", "content": "Say hello"}]
ANTHROPIC_HELLO: list[MessageParam] = [{"role": "user", "content": "Say hello"}]


@pytest.fixture
async def local() -> AsyncIterator[FakeOllama]:
    fake = await FakeOllama().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def gateway(start_gateway: StartGateway, upstream: FakeOpenAI, local: FakeOllama) -> GatewayServer:
    return await start_gateway(
        provider_table("fake", upstream) + provider_table("local", local, extra="local = true"),
        {"FAKE_KEY": FAKE_KEY},
    )


def client(gateway: GatewayServer, prefix: str = "") -> ollama.AsyncClient:
    return ollama.AsyncClient(host=gateway.url + prefix)


async def test_every_gateway_model_is_listed_and_the_version_is_one_copilot_accepts(gateway: GatewayServer) -> None:
    listed = await client(gateway).list()
    names = [m.model for m in listed.models]
    assert {"fake/gpt-test", "fake/text-embed-test", "local/llama3.2:latest", "local/qwen3:8b"} <= set(names)
    assert all(m.digest and m.details and m.details.family for m in listed.models)
    async with aiohttp.ClientSession() as session, session.get(f"{gateway.url}/api/version") as reply:
        version = (await reply.json())["version"]
    assert version == COMPATIBLE_VERSION
    assert tuple(int(p) for p in version.split(".")) >= (0, 6, 4)


async def test_show_answers_from_an_ollama_upstream_and_from_facts_for_others(
    gateway: GatewayServer, local: FakeOllama
) -> None:
    own = await client(gateway).show("local/qwen3:8b")
    assert own.capabilities == ["completion", "tools", "thinking"]
    assert own.modelinfo is not None and own.modelinfo["qwen3.context_length"] == 40960
    assert local.requests_to("/api/show")[-1].json == {"model": "qwen3:8b"}
    hosted = await client(gateway).show("fake/gpt-test")
    assert hosted.modelinfo is not None
    arch = hosted.modelinfo["general.architecture"]
    assert hosted.modelinfo[f"{arch}.context_length"] == 32768 and hosted.capabilities == ["completion", "tools"]


async def test_unknown_models_are_ollama_errors(gateway: GatewayServer) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        await client(gateway).show("nope/nothing")
    assert caught.value.status_code == 404 and "does not exist" in caught.value.error
    with pytest.raises(ollama.ResponseError) as caught:
        await client(gateway).chat(model="nope/nothing", messages=HELLO, stream=False)
    assert caught.value.status_code == 404


async def test_the_ollama_prefix_mirrors_the_api(gateway: GatewayServer) -> None:
    reply = await client(gateway, "/ollama").chat(model="fake/gpt-test", messages=HELLO, stream=False)
    assert reply.message.content == "Hello from the fake upstream!"
    assert reply.done and reply.done_reason == "stop" and reply.prompt_eval_count == 12 and reply.eval_count == 7


async def test_generate_streamed_and_whole_and_loading(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    pieces = [
        p
        async for p in await client(gateway).generate(
            model="fake/gpt-test", prompt="Say hello", system="Be brief.", stream=True
        )
    ]
    assert "".join(p.response or "" for p in pieces) == "Hello from the fake upstream!"
    assert pieces[-1].done and pieces[-1].eval_count == 5
    assert upstream.chat_requests[-1].json["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    whole = await client(gateway).generate(model="fake/gpt-test", prompt="Say hello", stream=False)
    assert whole.response == "Hello from the fake upstream!" and whole.done
    sent = len(upstream.chat_requests)
    loaded = await client(gateway).generate(model="fake/gpt-test", prompt="")
    assert loaded.done and loaded.done_reason == "load" and len(upstream.chat_requests) == sent  # nothing went upstream
    with pytest.raises(ollama.ResponseError) as caught:
        await client(gateway).generate(model="fake/gpt-test", prompt="x", raw=True)
    assert caught.value.status_code == 400 and "raw" in caught.value.error


async def test_embeddings_from_a_hosted_and_a_local_provider(
    gateway: GatewayServer, upstream: FakeOpenAI, local: FakeOllama
) -> None:
    hosted = await client(gateway).embed(model="fake/text-embed-test", input=["a", "b"])
    assert len(hosted.embeddings) == 2 and len(hosted.embeddings[0]) == 8
    assert upstream.requests_to("/embeddings")[-1].json == {"model": "text-embed-test", "input": ["a", "b"]}
    mine = await client(gateway).embed(model="local/nomic-embed-text:latest", input="a")
    assert len(mine.embeddings) == 1
    assert local.requests_to("/v1/embeddings")[-1].json["model"] == "nomic-embed-text:latest"
    legacy = await client(gateway).embeddings(model="fake/text-embed-test", prompt="a")
    assert len(legacy.embedding) == 8


async def test_models_in_use_are_listed_as_running(gateway: GatewayServer) -> None:
    assert (await client(gateway).ps()).models == []
    await client(gateway).chat(model="fake/gpt-test", messages=HELLO, stream=False)
    (running,) = (await client(gateway).ps()).models
    assert running.model == "fake/gpt-test"
    assert running.expires_at is not None and running.expires_at > datetime.now(UTC)


async def test_native_passthrough_keeps_the_clients_bytes_and_streams_ndjson(
    gateway: GatewayServer, local: FakeOllama
) -> None:
    raw = (
        b'{"model": "local/qwen3:8b", "messages": [{"role": "user", "content": "caf\\u00e9"}], "think": true, '
        b'"options": {"num_ctx": 8192}}'
    )
    url, headers = f"{gateway.url}/api/chat", {"Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session, session.post(url, data=raw, headers=headers) as reply:
        assert reply.headers["Content-Type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in (await reply.read()).splitlines()]
    assert local.native_chat_requests[-1].body == raw.replace(b'"local/qwen3:8b"', b'"qwen3:8b"')
    assert "".join(line["message"].get("thinking", "") for line in lines) == oll.THINKING
    assert lines[-1]["done"] is True and lines[-1]["eval_count"] == oll.COUNTS["eval_count"]
    assert gateway.gateway.totals.completion_tokens == oll.COUNTS["eval_count"]


async def test_other_clients_reach_ollama_through_its_native_api(gateway: GatewayServer, local: FakeOllama) -> None:
    import anthropic

    sdk = anthropic.AsyncAnthropic(base_url=gateway.url, api_key="x", max_retries=0)
    await sdk.messages.create(
        model="local/qwen3:8b",
        max_tokens=300,
        messages=ANTHROPIC_HELLO,
        system="Be brief.",
        thinking={"type": "enabled", "budget_tokens": 1024},
        stop_sequences=["END"],
    )
    sent = local.native_chat_requests[-1].json
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]
    assert sent["think"] is True and sent["stream"] is False
    assert sent["options"]["stop"] == ["END"] and sent["options"]["num_predict"] >= 300


# --- the context window asked of a native Ollama --------------------------------------------------

LONG = "word " * 20_000  # about 20,000 tokens: Claude Code's first request is this long


async def test_a_long_prompt_asks_ollama_for_a_window_that_holds_it(gateway: GatewayServer, local: FakeOllama) -> None:
    import anthropic

    sdk = anthropic.AsyncAnthropic(base_url=gateway.url, api_key="x", max_retries=0)
    for _ in range(2):
        async with sdk.messages.stream(
            model="local/llama3.2:latest", max_tokens=32_000, messages=[{"role": "user", "content": LONG}]
        ) as stream:
            await stream.get_final_message()
    # ~20k prompt tokens and 8k of room for the answer, rounded up to a power of two
    assert [r.json["options"]["num_ctx"] for r in local.native_chat_requests] == [32768, 32768]
    assert local.windows == [32768, 32768]
    assert len(local.requests_to("/api/show")) == 1  # the model's own window, asked once

    await sdk.messages.create(model="local/llama3.2:latest", max_tokens=300, messages=ANTHROPIC_HELLO)
    assert local.windows[-1] == 32768  # a short request keeps the loaded window: no reload
    await sdk.messages.create(model="local/qwen3:8b", max_tokens=300, messages=ANTHROPIC_HELLO)
    assert "num_ctx" not in local.native_chat_requests[-1].json["options"]  # the server's default holds it
    assert local.windows[-1] == oll.DEFAULT_CONTEXT


async def test_the_window_is_at_most_what_the_model_was_trained_for(gateway: GatewayServer, local: FakeOllama) -> None:
    shown = await client(gateway).show("local/qwen3:8b")  # a client's own show teaches it too
    assert shown.modelinfo is not None
    await client(gateway).generate(model="local/qwen3:8b", prompt=LONG * 2, stream=False)
    assert local.native_chat_requests[-1].json["options"]["num_ctx"] == 40960  # not 65536
    assert len(local.requests_to("/api/show")) == 1


async def test_a_window_the_client_set_is_kept_through_translation(gateway: GatewayServer, local: FakeOllama) -> None:
    await client(gateway).generate(model="local/llama3.2:latest", prompt=LONG, options={"num_ctx": 12288}, stream=False)
    assert local.native_chat_requests[-1].json["options"]["num_ctx"] == 12288
    assert not local.requests_to("/api/show")


async def test_the_config_sets_a_models_window(start_gateway: StartGateway, local: FakeOllama) -> None:
    gateway = await start_gateway(provider_table("local", local, extra='local = true\nnum_ctx = {"llama3.2" = 16384}'))
    await client(gateway).chat(model="local/llama3.2:latest", messages=HELLO, stream=False)
    await client(gateway).chat(model="local/qwen3:8b", messages=HELLO, stream=False)
    assert [r.json.get("options") for r in local.native_chat_requests] == [{"num_ctx": 16384}, None]
