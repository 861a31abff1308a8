"""``GET /metrics``: Prometheus text with requests, errors, latency, tokens, breakers and cache
hits — counts and timings only."""

from __future__ import annotations

import re

import aiohttp
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

TOKEN = "sb-admin-metrics-test-token-0000000000000"
CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
_SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+]+$')


async def test_metrics_count_requests_tokens_latency_and_breakers(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY})
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            async with session.post(f"{gateway.url}/v1/chat/completions", json=CHAT) as r:
                assert r.status == 200
        async with session.post(f"{gateway.url}/v1/chat/completions", json={**CHAT, "model": "nope/x"}) as r:
            assert r.status == 404
        async with session.get(f"{gateway.url}/metrics") as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await r.text()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert all(_SAMPLE.match(line) for line in lines), [line for line in lines if not _SAMPLE.match(line)]
    assert (
        'switchboard_requests_total{protocol="openai-chat",provider="fake",model="fake/gpt-test",status="200"} 3'
        in lines
    )
    assert 'switchboard_requests_total{protocol="openai-chat",provider="",model="nope/x",status="404"} 1' in lines
    assert 'switchboard_errors_total{provider="",class="model_not_found"} 1' in lines
    assert 'switchboard_tokens_total{provider="fake",model="gpt-test",kind="prompt"} 36' in lines
    assert 'switchboard_request_duration_seconds_count{provider="fake",model="fake/gpt-test"} 3' in lines
    assert 'switchboard_request_duration_seconds_bucket{provider="fake",model="fake/gpt-test",le="+Inf"} 3' in lines
    assert 'switchboard_breaker_state{provider="fake"} 0' in lines
    assert "switchboard_cache_hits_total 0" in lines
    assert FAKE_KEY not in text and "hi" not in re.sub(r"[a-z_]+", "", text)


async def test_metrics_can_require_admin_credentials(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start_gateway(
        "[server]\nmetrics_auth = true\n" + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}, admin_token=TOKEN
    )
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{gateway.url}/metrics") as r:
            assert r.status == 401
        async with session.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            assert r.status == 200
