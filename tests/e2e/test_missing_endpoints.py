"""A server behind an OpenAI-compatible address that lacks ``/v1/responses`` (llama-cpp-python,
an older Ollama), configured as speaking both protocols: the first Responses request finds the
endpoint missing and is translated to Chat Completions at once, on the same route; every later
one goes straight there, after a restart too, since what was learned is kept in the database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest
from conftest import FAKE_KEY, LOCAL_OFF, provider_table
from fakes import openai_upstream
from fakes.openai_upstream import FakeOpenAI

from gateway import GatewayServer, load_settings
from gateway.store.secrets import MemorySecrets

BOTH = 'protocols = ["openai-chat", "openai-responses"]'
LEARNED = "has no openai-responses endpoint"


@pytest.fixture
async def chat_only() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=FAKE_KEY, models=("gpt-test",), responses=False).start()
    yield fake
    await fake.stop()


class Gateways:
    """Gateways started one after another on the same state folder, as restarts are."""

    def __init__(self, tmp_path: Path, config: str) -> None:
        self._config = tmp_path / "config.toml"
        self._config.write_text(LOCAL_OFF + config, encoding="utf-8")
        self._data = tmp_path / "state"
        self._data.mkdir(mode=0o700)
        self._secrets = MemorySecrets()

    async def start(self) -> GatewayServer:
        server = GatewayServer(
            load_settings(self._config, {"LOCAL_KEY": FAKE_KEY}, port=0), data_dir=self._data, secrets=self._secrets
        )
        await server.start()
        return server


def client(gateway: GatewayServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key="x", max_retries=0)


async def answer(gateway: GatewayServer, stream: bool) -> str:
    if stream:
        async with client(gateway).responses.stream(model="local/gpt-test", input="Say hello") as events:
            return (await events.get_final_response()).output_text
    raw = await client(gateway).responses.with_raw_response.create(model="local/gpt-test", input="Say hello")
    assert raw.headers["x-switchboard-attempts"] == "1"  # the same route, not a failover
    return raw.parse().output_text


@pytest.mark.parametrize("stream", [False, True])
async def test_responses_are_translated_once_the_endpoint_is_found_missing_and_after_a_restart(
    tmp_path: Path, chat_only: FakeOpenAI, caplog: pytest.LogCaptureFixture, stream: bool
) -> None:
    gateways = Gateways(tmp_path, provider_table("local", chat_only, extra=BOTH))
    first = await gateways.start()
    try:
        with caplog.at_level(logging.INFO, "gateway.routing"):
            assert await answer(first, stream) == openai_upstream.TEXT
            assert await answer(first, not stream) == openai_upstream.TEXT
        assert len(chat_only.responses_requests) == 1  # one 404, then straight to chat
        assert len(chat_only.chat_requests) == 2
        assert sum(LEARNED in r.getMessage() for r in caplog.records) == 1
        assert first.gateway.totals.requests == 2
    finally:
        await first.stop()

    second = await gateways.start()
    try:
        assert await answer(second, stream) == openai_upstream.TEXT
        assert len(chat_only.responses_requests) == 1  # still known after the restart
        assert len(chat_only.chat_requests) == 3
    finally:
        await second.stop()


async def test_an_unknown_model_at_a_responses_endpoint_teaches_nothing(tmp_path: Path, upstream: FakeOpenAI) -> None:
    gateways = Gateways(tmp_path, provider_table("local", upstream, extra=f'{BOTH}\nmodels = ["gpt-test", "gpt-gone"]'))
    gateway = await gateways.start()
    try:
        with pytest.raises(openai.NotFoundError) as caught:
            await client(gateway).responses.create(model="local/gpt-gone", input="Say hello")
        assert caught.value.code == "model_not_found"
        assert (await client(gateway).responses.create(model="local/gpt-test", input="Say hello")).output_text
        assert len(upstream.responses_requests) == 2 and not upstream.chat_requests  # both passed through
    finally:
        await gateway.stop()
