"""Limits kept in a real Redis: two gateways' limits over one Redis admit exactly the limit between
them under concurrent load, settle tokens and dollars there, and fall back to their own windows
while Redis does not answer (serving goes on, a key is never unlimited)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest
from fakes.clock import FakeClock
from redis.asyncio import Redis
from servers.redis import RedisServer

from gateway.auth.callers import Caller, Quota
from gateway.clock import Clock, SystemClock
from gateway.errors import LimitExceeded
from gateway.pipeline.limits import Limits
from gateway.pipeline.shared_limits import RETRY, SharedLimits, SharedTicket
from gateway.shared.link import connect, failures
from gateway.shared.windows import Settlement, SharedWindows


def gateway_limits(url: str, clock: Clock) -> tuple[SharedLimits, Redis]:
    """What one gateway builds over ``url``: its own client, its own fallback."""
    client = connect(url)
    return SharedLimits(SharedWindows(client), Limits(clock), clock, failures()), client


@pytest.fixture
async def two(redis_server: RedisServer) -> AsyncIterator[tuple[SharedLimits, SharedLimits]]:
    clock = SystemClock()
    (a, client_a), (b, client_b) = gateway_limits(redis_server.url, clock), gateway_limits(redis_server.url, clock)
    yield a, b
    await a.drained()
    await b.drained()
    await client_a.aclose()
    await client_b.aclose()


async def test_two_gateways_admit_exactly_the_limit_between_them_under_concurrent_load(
    two: tuple[SharedLimits, SharedLimits],
) -> None:
    a, b = two
    caller = Caller("team-rpm", "custom", Quota(requests_per_minute=30))

    async def one(limits: SharedLimits) -> bool:
        try:
            return isinstance(await limits.reserve(caller, 10), SharedTicket)
        except LimitExceeded as refused:
            assert refused.retry_after is not None and 1 <= refused.retry_after <= 60
            assert "30 requests per minute" in refused.message
            return False

    # 200 at once on each: more than a gateway's connections, so some wait their turn (none falls back)
    answers = await asyncio.gather(*(one(a if n % 2 else b) for n in range(400)))
    assert sum(answers) == 30
    assert sum(a.denials().values()) + sum(b.denials().values()) == 370


async def test_tokens_reserved_on_one_are_settled_for_both(two: tuple[SharedLimits, SharedLimits]) -> None:
    a, b = two
    caller = Caller("team-tpm", "custom", Quota(tokens_per_minute=1000))
    ticket = await a.reserve(caller, 900)
    with pytest.raises(LimitExceeded, match="1,000 tokens per minute"):
        await b.reserve(caller, 200)  # the reservation counts on the other gateway at once
    a.settle(ticket, 100)
    await a.drained()
    assert await b.reserve(caller, 800) is not None
    b.usage(caller)
    await b.drained()
    assert b.usage(caller)["tokens_per_minute"] == {"used": 900, "limit": 1000}


async def test_a_budget_spent_through_one_gateway_is_refused_by_the_other(
    two: tuple[SharedLimits, SharedLimits],
) -> None:
    a, b = two
    caller = Caller("team-dollars", "custom", Quota(dollars_per_day=2.0))
    a.settle(await a.reserve(caller, 10), 10, dollars=2.5)
    await a.drained()
    with pytest.raises(LimitExceeded) as refused:
        await b.reserve(caller, 10)
    assert "budget of $2.00 per day is spent ($2.50 used)" in refused.value.message
    with pytest.raises(LimitExceeded, match=r"budget of \$0.00 per day: it may spend nothing"):
        await a.reserve(Caller("team-stopped", "custom", Quota(dollars_per_day=0.0)), 10)


async def test_while_redis_is_down_each_gateway_keeps_the_limit_on_its_own(
    redis_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(redis_folder)
    server.start()
    clock = FakeClock()
    limits, client = gateway_limits(server.url, clock)
    caller = Caller("team-outage", "custom", Quota(requests_per_minute=3))
    try:
        assert isinstance(await limits.reserve(caller, 1), SharedTicket)
        server.stop()
        with caplog.at_level(logging.WARNING, "gateway.limits"):
            for _ in range(3):  # served: the fallback counts from zero, up to the limit
                ticket = await limits.reserve(caller, 1)
                assert ticket is not None and not isinstance(ticket, SharedTicket)
            with pytest.raises(LimitExceeded, match="3 requests per minute"):
                await limits.reserve(caller, 1)
        assert [r.getMessage() for r in caplog.records].count(
            "Redis did not answer (admit: ConnectionError): limits are this gateway's own for now"
        ) == 1
        server.start()
        await clock.advance(RETRY)
        assert isinstance(await limits.reserve(caller, 1), SharedTicket)  # Redis again (2 of its 3)
    finally:
        await limits.drained()
        await client.aclose()
        server.stop()


class CountedWindows(SharedWindows):
    """The windows, counting the settlements sent in each round trip."""

    def __init__(self, client: Redis) -> None:
        super().__init__(client)
        self.round_trips: list[int] = []

    async def settle(self, settlements: Iterable[Settlement]) -> None:
        sent = list(settlements)
        self.round_trips.append(len(sent))
        await super().settle(sent)


async def test_a_bursts_settlements_go_to_redis_in_one_round_trip(redis_server: RedisServer) -> None:
    clock = SystemClock()
    client = connect(redis_server.url)
    windows = CountedWindows(client)
    limits = SharedLimits(windows, Limits(clock), clock, failures())
    try:
        callers = [Caller(f"team-burst-{n}", "custom", Quota(tokens_per_minute=100_000)) for n in range(2)]
        tickets = [await limits.reserve(caller, 100) for caller in callers for _ in range(20)]
        for ticket in tickets:
            limits.settle(ticket, 40, dollars=0.5)  # each took back 60 of its 100 tokens, and cost something
        await limits.drained()
        assert windows.round_trips == [2]  # one a caller and its buckets, sent together
        for caller in callers:
            limits.usage(caller)
            await limits.drained()
            assert limits.usage(caller)["tokens_per_minute"] == {"used": 20 * 40, "limit": 100_000}
            assert (await windows.totals(caller.id))["dollars_day"] == 20 * 500_000
    finally:
        await client.aclose()


async def test_settlements_reach_a_redis_that_forgot_the_scripts(redis_server: RedisServer) -> None:
    """A restarted Redis knows no script: the settlements, sent by the script's hash, send it again."""
    clock = SystemClock()
    client = connect(redis_server.url)
    windows = CountedWindows(client)
    limits = SharedLimits(windows, Limits(clock), clock, failures())
    try:
        caller = Caller("team-forgotten", "custom", Quota(tokens_per_minute=100_000))
        ticket = await limits.reserve(caller, 100)
        await client.script_flush()
        limits.settle(ticket, 30)
        await limits.drained()
        assert (await windows.totals(caller.id))["tokens_minute"] == 30
        assert windows.round_trips == [1]
    finally:
        await client.aclose()
