"""Status: per provider and key (masked) health, breaker, cooldowns with time left, latency,
success rate and last error — for the admin only, over HTTP and from the command line."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import StartGateway
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script
from test_cli import run, start

from gateway import GatewayServer

KEYS = ("sk-first-key-000000001", "sk-second-key-00000002")
TOKEN = "sb-admin-test-token-0000000000000000000000"
CHAT = {"model": "pool/gpt-test", "messages": [{"role": "user", "content": "hi"}]}


async def get_status(gateway: GatewayServer, token: str | None = TOKEN) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session, session.get(f"{gateway.url}/v1/status", headers=headers) as r:
        return r.status, await r.json()


async def test_status_shows_each_keys_health_without_secrets(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    upstream.accept(*KEYS)
    config = (
        '[routing]\nbreaker_failures = 5\n[aliases]\nfast = ["pool/gpt-test"]\n'
        f'[providers.pool]\nkind = "openai-compatible"\nbase_url = "{upstream.url}"\napi_key_env = "POOL_KEY"\n'
        'rotation = "sequential"\nread_timeout = 1\n'
    )
    gateway = await start_gateway(config, {"POOL_KEY": ",".join(KEYS)}, admin_token=TOKEN)
    upstream.key_faults[KEYS[0]] = upstream.failure(429, "rate_limit_error", "slow down", {"retry-after": "45"})
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.post(f"{gateway.url}/v1/chat/completions", json=CHAT) as r:
                assert r.status == 200
    upstream.then(Script("status", status=503, body=b'{"error": {"message": "down", "type": "server_error"}}'))
    del upstream.key_faults[KEYS[0]]
    async with aiohttp.ClientSession() as session, session.post(f"{gateway.url}/v1/chat/completions", json=CHAT) as r:
        assert r.status == 503

    status, doc = await get_status(gateway)
    assert status == 200
    (pool,) = doc["providers"]
    assert pool["rotation"] == "sequential"
    assert pool["breaker"] == {"state": "closed", "failures": 1}
    first, second = pool["keys"]
    assert first["label"] == "pool#1" and first["key"] == "sk-f****0001"
    assert first["health"] == "cooling" and first["last_error"] == "rate_limited"
    assert 40 < first["cooldowns"]["gpt-test"]["seconds_left"] <= 45
    assert second["attempts"] == 3 and second["successes"] == 2 and second["last_error"] == "http_503"
    assert second["latency_ms"] > 0 and 0 < second["success_rate"] < 1
    assert doc["aliases"] == {"fast": ["pool/gpt-test"]}
    assert doc["usage"]["requests"] == 2
    assert not any(k in json.dumps(doc) for k in KEYS)


async def test_status_is_for_the_admin_only(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start_gateway(admin_token=TOKEN)
    for token in (None, "sb-admin-wrong", TOKEN + "x"):
        status, doc = await get_status(gateway, token)
        assert status == 401 and doc["error"]["type"] == "authentication_error"
    without = await start_gateway()  # no admin token at all: nobody gets in
    assert (await get_status(without))[0] == 401


async def test_the_status_command_reads_the_running_gateway(tmp_path: Path, upstream: FakeOpenAI) -> None:
    made = run(tmp_path, "keys", "create", "--label", "ci bot", "--tier", "free")
    assert made.returncode == 0, made.stderr
    client_key = made.stdout.strip()
    proc, url = await start(
        tmp_path, "--port", "0", OPENAI_API_KEY=",".join(KEYS), OPENAI_BASE_URL=upstream.url, OPENAI_MODELS="gpt-test"
    )
    try:
        token_file = tmp_path / "data" / "admin.token"
        assert token_file.stat().st_mode & 0o077 == 0
        upstream.accept(*KEYS)
        upstream.key_faults[KEYS[1]] = upstream.failure(429, "insufficient_quota", "quota", code="insufficient_quota")
        async with aiohttp.ClientSession() as session:
            for n in range(2):  # two conversations, so round-robin reaches the second key
                chat = {"model": "openai/gpt-test", "messages": [{"role": "user", "content": f"hi {n}"}]}
                async with session.post(f"{url}/v1/chat/completions", json=chat) as r:
                    assert r.status == 200
        result = await asyncio.to_thread(run, tmp_path, "status", "--url", url)
        assert result.returncode == 0, result.stderr
        assert "openai  rotation round-robin  breaker closed" in result.stdout
        assert "openai#2" in result.stdout and "benched: quota_exhausted" in result.stdout
        assert not any(k in result.stdout for k in KEYS)
        assert "keys   required beyond loopback; secrets in " in result.stdout
        key_line = next(line for line in result.stdout.splitlines() if "ci bot" in line)
        assert key_line.strip().startswith(client_key[:18]) and "req/minute 0/20" in key_line
        assert client_key not in result.stdout
        as_json = await asyncio.to_thread(run, tmp_path, "status", "--url", url, "--json")
        assert json.loads(as_json.stdout)["providers"][0]["keys"][1]["health"] == "benched"
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


def test_the_status_command_says_when_no_gateway_runs(tmp_path: Path) -> None:
    result = run(tmp_path, "status")
    assert result.returncode == 1 and "no gateway has started" in result.stderr


async def test_models_whose_every_route_failed_are_named_until_one_succeeds(
    start_gateway: StartGateway, upstream: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.pipeline import status as pipeline_status

    monkeypatch.setattr(pipeline_status, "FAILING_KEPT", 2)  # names come from callers: a bounded record
    upstream.accept(*KEYS)
    config = (
        f'[routing]\nbreaker_failures = 50\n[providers.pool]\nkind = "openai-compatible"\nbase_url = "{upstream.url}"\n'
        'api_key_env = "POOL_KEY"\n'
    )
    gateway = await start_gateway(config, {"POOL_KEY": KEYS[0]}, admin_token=TOKEN)
    down = b'{"error": {"message": "down", "type": "server_error"}}'
    async with aiohttp.ClientSession() as session:
        for model in ("gpt-test", "gpt-other", "text-embed-test"):
            upstream.then(Script("status", status=503, body=down))
            async with session.post(f"{gateway.url}/v1/chat/completions", json={**CHAT, "model": f"pool/{model}"}) as r:
                assert r.status == 503
        failing = (await get_status(gateway))[1]["failing"]
        assert [f["model"] for f in failing] == ["pool/gpt-other", "pool/text-embed-test"]  # the oldest went
        assert "down" in failing[0]["error"]
        async with session.post(f"{gateway.url}/v1/chat/completions", json={**CHAT, "model": "pool/gpt-other"}) as r:
            assert r.status == 200
    assert [f["model"] for f in (await get_status(gateway))[1]["failing"]] == ["pool/text-embed-test"]
