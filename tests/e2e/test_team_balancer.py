"""Two gateway processes sharing a real Redis behind a real nginx running ``deploy/nginx.conf``, on
loopback: requests spread over both; a gateway stopped with SIGTERM drains with no error a client
sees; one killed with SIGKILL mid-load costs only the requests it had in hand, and every request
that had not reached it goes to the survivor (nginx retries a refused connection, never a POST
that was sent)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from conftest import provider_table
from fakes.openai_upstream import FakeOpenAI
from servers import gateways
from servers.gateways import ADDRESSES, CLIENTS, Gateway, Seen, Team, balanced, load
from servers.redis import RedisServer

pytestmark = pytest.mark.slow
DRAIN = 2.0


@pytest.fixture
async def team(tmp_path: Path, upstream: FakeOpenAI, redis_server: RedisServer) -> AsyncIterator[Team]:
    upstream.delay = 0.15  # each answer takes a while, so a stop or a kill finds some in flight
    config = f'[server]\ndrain_seconds = {DRAIN}\n\n[shared]\nredis = "{redis_server.url}"\n\n'
    config += provider_table("fake", upstream)
    async with balanced(tmp_path, config) as running:
        yield running


async def test_requests_spread_over_both_gateways(team: Team) -> None:
    seen, done = Seen(), asyncio.Event()
    asyncio.get_running_loop().call_later(1.5, done.set)
    await load(team.nginx.url, seen, done)
    assert seen.failed() == []
    served = team.nginx.served_by(len(seen.answers))
    counts = {g.address: served.count(g.address) for g in team.gateways}
    assert len(served) == len(seen.answers) >= 40
    assert min(counts.values()) >= len(served) // 4, counts  # round robin: about half each


async def test_sigterm_drains_with_no_error_a_client_sees(team: Team) -> None:
    stopping, other = team.gateways
    seen, done = Seen(), asyncio.Event()
    running = asyncio.create_task(load(team.nginx.url, seen, done))
    await asyncio.sleep(0.8)
    stopping.process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(DRAIN + 12):
        assert await stopping.process.wait() == 0  # the drain, then the requests in flight finished
    gone = time.monotonic()
    await asyncio.sleep(1.0)
    done.set()
    await running
    assert seen.failed() == [], f"{len(seen.failed())} of {len(seen.answers)} requests failed"
    served = team.nginx.served_by(len(seen.answers))
    assert len(served) == len(seen.answers)
    assert served.count(stopping.address) > 0  # it served during the drain too
    after = [a for a in served[-CLIENTS:] if a != other.address]
    assert after == [], "requests made after the stop went to the stopped gateway"
    assert sum(1 for at, _ in seen.answers if at > gone) >= CLIENTS


async def test_sigkill_fails_over_and_only_requests_in_hand_are_lost(team: Team) -> None:
    killed, survivor = team.gateways
    seen, done = Seen(), asyncio.Event()
    running = asyncio.create_task(load(team.nginx.url, seen, done))
    await asyncio.sleep(0.8)
    killed.process.send_signal(signal.SIGKILL)
    await killed.process.wait()
    # Dead: its sockets went with it. A request made while it was dying could still be queued on its
    # listening socket, and is lost with it, as one it had in hand.
    at_kill = time.monotonic()
    await asyncio.sleep(1.5)
    done.set()
    await running
    failed = seen.failed()
    before, after = [s for s in seen.answers if s[0] <= at_kill], [s for s in seen.answers if s[0] > at_kill]
    print(f"\nSIGKILL mid-load: {len(seen.answers)} requests, {len(failed)} failed ({len(before)} started before)")
    assert all(at <= at_kill for at, _ in failed), "a request made after the kill failed"
    assert len(failed) <= CLIENTS  # at most the ones the dead gateway had in hand
    assert all(status in (0, 502) for _, status in failed)
    assert len(after) >= 2 * CLIENTS
    served = team.nginx.served_by(len(seen.answers))
    retried = [a for a in served if "," in a]  # refused by the dead one, then sent to the survivor
    assert all(a.endswith(survivor.address) for a in retried)


async def test_a_team_whose_second_gateway_fails_to_start_leaves_no_process_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Gateway] = []
    first = asyncio.Event()
    serve = gateways.serve

    async def one_fails(home: Path, config: str, host: str, port: int, env: Mapping[str, str] = {}) -> Gateway:
        if host == ADDRESSES[1]:
            await first.wait()  # the other is serving by now: a test that failed here would leave it running
            raise RuntimeError("it did not say it listens")
        started.append(gateway := await serve(home, config, host, port, env))
        first.set()
        return gateway

    monkeypatch.setattr(gateways, "serve", one_fails)
    with pytest.raises(RuntimeError, match="did not say it listens"):
        async with balanced(tmp_path, ""):
            pass
    assert [gateway.process.returncode is not None for gateway in started] == [True]
