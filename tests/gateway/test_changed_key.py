"""A provider key replaced after the one before it was refused is tried again at once: the route
does not stay resting (its rests, benches and breaker are cleared when its keys are stored), nor
does the same key saved again once its account was put right at the provider."""

from __future__ import annotations

import aiohttp
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway import Control
from gateway.pipeline.status import KeyStatus, ProviderStatus
from gateway.store.provider_keys import set_keys
from gateway.store.secrets import MemorySecrets

WRONG = "sk-fake-upstream-key-wrong"


async def _status(url: str, model: str) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as session, session.post(f"{url}/v1/chat/completions", json=body) as r:
        await r.read()
        return r.status


def _keys(providers: list[ProviderStatus]) -> list[KeyStatus]:
    return next(p["keys"] for p in providers if p["id"] == "fake")


async def _refused(start_gateway: StartGateway, upstream: FakeOpenAI) -> tuple[str, Control, str]:
    """A gateway whose only key for the fake upstream was refused and rests: its address, its
    Control and the model asked for."""
    secrets = MemorySecrets()
    set_keys(secrets, "fake", (WRONG,))
    server = await start_gateway(provider_table("fake", upstream), {}, secrets=secrets)
    assert server.control is not None
    model = f"fake/{upstream.models[0]}"
    assert await _status(server.url, model) >= 400  # the upstream refuses the key
    (key,) = _keys(server.control.status()["providers"])
    assert key["health"] == "benched"  # the key rests
    return server.url, server.control, model


async def test_a_replaced_key_is_tried_at_once(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    url, control, model = await _refused(start_gateway, upstream)
    change = await control.store_provider_keys("fake", (FAKE_KEY,), "test")
    assert change["applied"]
    (key,) = _keys(control.status()["providers"])
    assert key["health"] == "ok" and key["benched"] is None
    assert await _status(url, model) == 200


async def test_a_key_stored_again_is_tried_at_once(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    """The same key saved again (its account was put right at the provider): asked again, not left benched."""
    url, control, model = await _refused(start_gateway, upstream)
    upstream.accept(WRONG)
    change = await control.store_provider_keys("fake", (WRONG,), "test")
    assert change["applied"]
    assert await _status(url, model) == 200
