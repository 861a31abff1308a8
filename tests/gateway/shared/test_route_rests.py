"""Route rests between a team's gateways over a real Redis: a cooldown or a bench one gateway's
health sets reaches the other's within moments, is not heard back by its sender, and a message
that is not one of ours is ignored; with Redis gone, telling costs nothing and raises nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fakes.clock import FakeClock
from servers.redis import RedisServer

from gateway.config.settings import HealthPolicy
from gateway.routing.failure import Verdict
from gateway.routing.health import Health
from gateway.routing.pool import Credential
from gateway.shared.link import connect
from gateway.shared.route_rests import CHANNEL, RouteRests

KEY = Credential("groq", "groq#1", "k1")
POLICY = HealthPolicy(cooldown=10, exhausted=3600, credential=600, breaker_failures=2, breaker_cooloff=30)


async def until(condition: object, seconds: float = 3.0) -> None:
    assert callable(condition)
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


class Gateway:
    def __init__(self, url: str) -> None:
        self.redis = connect(url)
        self.health = Health(FakeClock(), POLICY)
        self.rests = RouteRests(self.redis)
        self.health.told = self.rests.tell
        self.rests.listen(self.health.heard)

    async def close(self) -> None:
        await self.rests.close()
        await self.redis.aclose()


@pytest.fixture
async def two(redis_server: RedisServer) -> AsyncIterator[tuple[Gateway, Gateway]]:
    one, other = Gateway(redis_server.url), Gateway(redis_server.url)
    try:
        async with asyncio.timeout(3):
            while (await one.redis.pubsub_numsub(CHANNEL))[0][1] < 2:
                await asyncio.sleep(0.01)
        yield one, other
    finally:
        await one.close()
        await other.close()


async def test_a_429_on_one_gateway_rests_the_key_for_that_model_on_the_other(two: tuple[Gateway, Gateway]) -> None:
    one, other = two
    one.health.failed(KEY, "llama", Verdict("cool", "rate_limited", wait=25))
    await until(lambda: other.health.blocked(KEY, "llama") is not None)
    assert other.health.blocked(KEY, "llama") == ("rate_limited", 25)
    assert other.health.blocked(KEY, "mixtral") is None  # that model only, as on the first


async def test_an_exhausted_quota_benches_the_key_everywhere_and_nothing_echoes_back(
    two: tuple[Gateway, Gateway],
) -> None:
    one, other = two
    told: list[tuple[str, str | None, float, str]] = []
    other.health.told = lambda *rest: told.append(rest)  # what ``other`` would tell on: nothing it heard
    one.health.failed(KEY, "llama", Verdict("bench", "quota_exhausted", wait=7200))
    await until(lambda: other.health.blocked(KEY, "anything") is not None)
    assert other.health.blocked(KEY, "anything") == ("quota_exhausted", 7200)
    one.health.bench(KEY.label, 60, "quota_exhausted")  # shorter than the one held: not told again
    await asyncio.sleep(0.2)
    assert told == []
    assert one.health.blocked(KEY, "llama") == ("quota_exhausted", 7200)  # its own message was not heard back


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        '{"from": "x", "label": 1, "model": null, "s": 5, "reason": "r"}',
        '{"from": "x", "label": "groq#1", "model": null, "s": -5, "reason": "r"}',
        '{"from": "x", "label": "groq#1", "model": null, "s": "5", "reason": "r"}',
        '{"from": "x", "label": "groq#1", "s": 5}',
        '{"from": "x", "label": "groq#1", "model": null, "s": 1%s, "reason": "r"}' % ("0" * 400),  # no float
    ],
)
async def test_a_message_that_is_not_a_rest_is_ignored(two: tuple[Gateway, Gateway], message: str) -> None:
    one, other = two
    await one.redis.publish(CHANNEL, message)
    one.health.failed(KEY, "llama", Verdict("cool", "rate_limited", wait=25))  # a good one after it still lands
    await until(lambda: other.health.blocked(KEY, "llama") is not None)
    assert other.health.blocked(KEY, "other-model") is None  # nothing else came of the message before it
    assert other.health.blocked(Credential("groq", "groq#2", "k2"), "llama") is None


async def test_with_redis_gone_a_rest_stays_here_and_nothing_is_raised(redis_server: RedisServer) -> None:
    gone = Gateway("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        gone.health.failed(KEY, "llama", Verdict("cool", "rate_limited", wait=25))
        assert gone.health.blocked(KEY, "llama") == ("rate_limited", 25)
        await asyncio.sleep(0.1)
    finally:
        await gone.close()
