"""Issue 23, points 2 and 3 end to end: a local server that failed and came back is used at once
(fail soft), affinity is one caller's for one requested name, and ``auto`` embeds with an
embedding model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conftest import StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script

from gateway import GatewayServer

FACTS = '[models."local/gpt-test"]\nrating = 3\ncost = [0, 0]\n[models."cloud/gpt-test"]\nrating = 3\ncost = [1, 2]\n'
CLOUD_KEYS = ("sk-cloud-key-0000000001", "sk-cloud-key-0000000002")


@pytest.fixture
async def cloud() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key="sk-cloud-provider-00001").start()
    yield fake
    await fake.stop()


def table(name: str, fake: FakeOpenAI, extra: str = "") -> str:
    """A provider that gives up on a silent upstream within a second."""
    return provider_table(name, fake, extra=f"read_timeout = 1\nconnect_timeout = 1\n{extra}")


async def post(gateway: GatewayServer, body: dict[str, Any], path: str = "/v1/chat/completions") -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(f"{gateway.url}{path}", json=body) as r:
        return r.status, (dict(r.headers), json.loads(await r.read()))


def hi(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Hi"}]}


async def test_a_local_server_that_comes_back_is_used_at_once(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(
        "[routing]\nbreaker_failures = 3\n" + table("local", upstream, "local = true"),
        {"LOCAL_KEY": upstream.key or ""},
    )
    for _ in range(3):
        upstream.then(Script("status", status=500))
    for n in range(3):  # the breaker opens after the third
        status, _ = await post(gateway, {**hi("local/gpt-test"), "messages": [{"role": "user", "content": f"{n}"}]})
        assert status >= 500
    status, (headers, _) = await post(gateway, hi("local/gpt-test"))  # back: its breaker rests, one probe goes
    assert status == 200 and headers["x-switchboard-route"].startswith("local/gpt-test")


async def test_a_failed_probe_is_refused_with_its_reason(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start_gateway(
        "[routing]\nbreaker_failures = 1\n" + table("local", upstream, "local = true"),
        {"LOCAL_KEY": upstream.key or ""},
    )
    upstream.then(Script("status", status=500)).then(Script("status", status=500))
    assert (await post(gateway, hi("local/gpt-test")))[0] >= 500
    status, (headers, body) = await post(gateway, hi("local/gpt-test"))
    assert status >= 500 and headers["x-switchboard-attempts"] == "1"  # the probe was sent, and failed
    assert "500" in body["error"]["message"]
    assert len(upstream.requests_to("/chat/completions")) == 2


async def test_affinity_is_one_callers_for_one_requested_name(
    start_gateway: StartGateway, upstream: FakeOpenAI, cloud: FakeOpenAI
) -> None:
    cloud.accept(*CLOUD_KEYS)  # two keys: a pinned name has a choice, so its conversation is remembered
    gateway = await start_gateway(
        table("local", upstream, "local = true") + table("cloud", cloud) + FACTS,
        {"LOCAL_KEY": upstream.key or "", "CLOUD_KEY": ",".join(CLOUD_KEYS)},
    )
    status, (headers, _) = await post(gateway, hi("cloud/gpt-test"))
    assert status == 200 and headers["x-switchboard-route"].startswith("cloud/")
    status, (headers, _) = await post(gateway, hi("auto"))  # the same opening, another name: the free local model
    assert status == 200 and headers["x-switchboard-route"].startswith("local/gpt-test")


async def test_auto_embeds_with_an_embedding_model(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start_gateway(table("fake", upstream), {"FAKE_KEY": upstream.key or ""})
    status, (headers, body) = await post(gateway, {"model": "auto", "input": "hello"}, "/v1/embeddings")
    assert status == 200 and headers["x-switchboard-route"].startswith("fake/text-embed-test"), body
    assert body["data"][0]["object"] == "embedding"


async def test_auto_embeddings_without_an_embedding_model_is_a_400(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(table("fake", upstream, 'models = ["gpt-test"]'), {"FAKE_KEY": upstream.key or ""})
    status, (_, body) = await post(gateway, {"model": "auto", "input": "hello"}, "/v1/embeddings")
    assert status == 400 and body["error"]["param"] == "model" and "embedding model" in body["error"]["message"]
    assert not upstream.requests_to("/embeddings")
