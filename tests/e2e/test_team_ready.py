"""``/health/ready`` beside ``/health``: ready while the database and team mode's Redis answer,
503 naming what does not (a real redis-server stopped and started again); and a stop behind a load
balancer: on SIGTERM readiness turns 503 at once, requests are still served for ``drain_seconds``,
and a slow request in flight finishes before the process exits."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
from conftest import FAKE_KEY, StartGateway
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script
from servers.redis import RedisServer
from test_cli import start


async def ready(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(f"{url}/health/ready") as response:
        return response.status, await response.json()


async def test_ready_while_the_database_and_redis_answer(start_gateway: StartGateway, redis_folder: Path) -> None:
    redis = RedisServer(redis_folder)
    redis.start()
    try:
        gateway = await start_gateway(f'[shared]\nredis = "{redis.url}"\n')
        async with aiohttp.ClientSession() as session:
            assert await ready(session, gateway.url) == (200, {"status": "ready"})
            redis.stop()
            assert await ready(session, gateway.url) == (503, {"status": "unready", "failing": ["redis"]})
            async with session.get(f"{gateway.url}/health") as alive:
                assert alive.status == 200  # alive all the same: only not to be sent traffic
            redis.start()
            assert await ready(session, gateway.url) == (200, {"status": "ready"})
            await gateway.drain(0)
            assert await ready(session, gateway.url) == (503, {"status": "draining"})
    finally:
        redis.stop()


async def test_without_redis_ready_asks_the_database_alone(start_gateway: StartGateway) -> None:
    gateway = await start_gateway()
    async with aiohttp.ClientSession() as session:
        assert await ready(session, gateway.url) == (200, {"status": "ready"})
        assert gateway.state is not None
        await asyncio.to_thread(gateway.state.db.read.close)  # the database gone from under it
        assert await ready(session, gateway.url) == (503, {"status": "unready", "failing": ["database"]})


async def test_sigterm_drains_then_finishes_the_request_in_flight(tmp_path: Path, upstream: FakeOpenAI) -> None:
    (tmp_path / "config.toml").write_text("[server]\ndrain_seconds = 1.5\n")
    proc, url = await start(
        tmp_path, "--port", "0", OPENAI_API_KEY=FAKE_KEY, OPENAI_BASE_URL=upstream.url, OPENAI_MODELS="gpt-test"
    )
    upstream.then(Script("held", after_events=2))  # a slow answer: held until the test lets it go
    body = {"model": "openai/gpt-test", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with aiohttp.ClientSession() as session:
        assert await ready(session, url) == (200, {"status": "ready"})
        async with session.post(f"{url}/v1/chat/completions", json=body) as response:
            first = await response.content.readany()
            proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            assert await ready(session, url) == (503, {"status": "draining"})  # at once
            async with session.get(f"{url}/v1/models") as models:
                assert models.status == 200  # still serving while the balancer notices
            await asyncio.sleep(1.5)  # the drain is over: no longer listening, the stream still open
            assert proc.returncode is None
            upstream.gate.set()
            rest = await response.read()
    assert (first + rest).rstrip().endswith(b"data: [DONE]"), "the in-flight stream was cut short"
    async with asyncio.timeout(15):
        assert await proc.wait() == 0
    assert proc.stdout is not None
    out = (await proc.stdout.read()).decode()
    assert "Draining: not ready for new requests; still serving for 1.5 s" in out
    assert upstream.hang_ups == 0
