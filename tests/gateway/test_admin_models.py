"""The Models page's catalog (Control.models): every model every route serves, with provider, context,
capabilities, price or "local", and whether it answers now; the aliases and auto with their routes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.chatgpt import FakeChatGPT
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI

from gateway import Control, GatewayServer, ModelRow
from gateway.store.secrets import MemorySecrets


@pytest.fixture
async def ollama() -> AsyncIterator[FakeOllama]:
    fake = await FakeOllama().start()
    yield fake
    await fake.stop()


async def listed(gateway: GatewayServer) -> dict[str, ModelRow]:
    control = gateway.control
    assert isinstance(control, Control)
    return {row["id"]: row for row in await control.models()}


async def test_every_model_with_its_provider_context_capabilities_and_price(
    start_gateway: StartGateway, ollama: FakeOllama
) -> None:
    cloud = await FakeOpenAI(models=("gpt-4o-mini", "text-embed-test")).start()
    try:
        gateway = await start_gateway(
            provider_table("cloud", cloud)
            + provider_table("home", ollama, extra="local = true")
            + '[aliases]\nfast = ["cloud/gpt-4o-mini", "home/llama3.2:latest"]\n',
            {"CLOUD_KEY": FAKE_KEY},
        )
        rows = await listed(gateway)
    finally:
        await cloud.stop()
    mini = rows["cloud/gpt-4o-mini"]
    assert (mini["kind"], mini["provider"], mini["provider_name"]) == ("model", "cloud", "cloud")
    assert (mini["context"], mini["output"], mini["capabilities"]) == (128000, 16384, ["tools", "vision"])
    assert (mini["billing"], mini["input_price"], mini["output_price"]) == ("metered", 0.15, 0.60)
    assert (mini["state"], mini["reason"], mini["seconds_left"], mini["leads_to"]) == ("ready", None, None, [])
    assert rows["cloud/text-embed-test"]["capabilities"] == ["embedding"]
    local = rows["home/qwen3:8b"]
    assert (local["billing"], local["input_price"], local["capabilities"]) == ("local", None, ["tools", "thinking"])
    fast = rows["fast"]
    assert (fast["kind"], fast["provider_name"]) == ("alias", "Switchboard")
    assert fast["leads_to"] == ["cloud/gpt-4o-mini", "home/llama3.2:latest"]
    assert (fast["billing"], fast["input_price"], fast["state"]) == ("metered", 0.15, "ready")
    assert rows["auto"]["kind"] == "auto" and list(rows)[-4:] == ["fast", "auto", "auto:fast", "auto:local"]


async def test_a_rate_limited_model_rests_and_a_failing_one_says_why(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY})
    upstream.fail(429, "rate_limit_exceeded", "Slow down.", {"retry-after": "30"})
    async with aiohttp.ClientSession() as session:
        body = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
        async with session.post(f"{gateway.url}/v1/chat/completions", json=body) as reply:
            assert reply.status == 429
    rows = await listed(gateway)
    resting = rows["fake/gpt-test"]
    assert (resting["state"], resting["reason"]) == ("resting", "rate_limited")
    assert resting["seconds_left"] is not None and 0 < resting["seconds_left"] <= 30
    assert rows["fake/gpt-other"]["state"] == "ready"  # a cooldown holds one model of the key, not the others


async def test_a_model_whose_every_route_failed_says_why_until_it_answers(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY})
    body = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as session:
        upstream.fail(500, "server_error", "The engine is overloaded.")
        async with session.post(f"{gateway.url}/v1/chat/completions", json=body) as reply:
            assert reply.status >= 500
        failing = (await listed(gateway))["fake/gpt-test"]
        assert failing["state"] == "failing" and "The engine is overloaded." in (failing["reason"] or "")
        async with session.post(f"{gateway.url}/v1/chat/completions", json=body) as reply:
            assert reply.status == 200
    assert (await listed(gateway))["fake/gpt-test"]["state"] == "ready"


async def test_a_subscriptions_models_cost_nothing_more(start_gateway: StartGateway, tmp_path: Path) -> None:
    fake = await FakeChatGPT().start()
    try:
        auth = tmp_path / "auth.json"
        auth.write_text(json.dumps(fake.auth_file(fake.issue())), encoding="utf-8")
        env = {"SWITCHBOARD_CODEX_BASE_URL": fake.url, "SWITCHBOARD_OPENAI_AUTH_URL": fake.root}
        gateway = await start_gateway("", env, home=tmp_path, secrets=MemorySecrets())
        assert gateway.control is not None
        await gateway.control.import_codex("test", auth, sync=True)
        rows = [row for row in (await listed(gateway)).values() if row["provider"] == "codex"]
    finally:
        await fake.stop()
    assert rows and {(row["billing"], row["input_price"], row["state"]) for row in rows} == {
        ("subscription", None, "ready")
    }
