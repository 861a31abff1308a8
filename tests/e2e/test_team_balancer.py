"""Two gateway processes sharing a real Redis behind a real nginx running ``deploy/nginx.conf``, on
loopback: requests spread over both; a gateway stopped with SIGTERM drains with no error a client
sees; one killed with SIGKILL mid-load costs only the requests it had in hand, and every request
that had not reached it goes to the survivor (nginx retries a refused connection, never a POST
that was sent)."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from conftest import FAKE_KEY, free_ports, provider_table
from fakes.openai_upstream import FakeOpenAI
from servers.nginx import Nginx, nginx_missing
from servers.redis import RedisServer
from test_cli import child_env

pytestmark = pytest.mark.slow
CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
DRAIN = 2.0
CLIENTS = 8


ADDRESSES = ("127.0.0.2", "127.0.0.3")  # two loopback addresses, so both gateways have one port as in compose


@dataclass
class Gateway:
    process: asyncio.subprocess.Process
    address: str  # host:port


@dataclass
class Team:
    gateways: tuple[Gateway, Gateway]
    nginx: Nginx


@dataclass
class Seen:
    """What the clients saw: each request's start (monotonic) and status (0: the connection failed)."""

    answers: list[tuple[float, int]] = field(default_factory=list)

    def failed(self) -> list[tuple[float, int]]:
        return [(at, status) for at, status in self.answers if status != 200]


def free_port_on(hosts: tuple[str, ...]) -> int:
    """A port free on every one of ``hosts`` now."""
    for _ in range(50):
        (port,) = free_ports(1)
        try:
            for host in hosts:
                with socket.socket() as s:
                    s.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port free on every address")


async def serve(home: Path, config: str, host: str, port: int) -> Gateway:
    home.mkdir()
    (home / "config.toml").write_text(config, encoding="utf-8")
    with (home / "stderr.log").open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "serve", "--host", host, "--port", str(port), "--log-level", "warning",
            env=child_env(home, FAKE_KEY=FAKE_KEY), stdout=asyncio.subprocess.PIPE, stderr=errors,
        )  # fmt: skip
    assert process.stdout is not None
    async with asyncio.timeout(20):
        line = (await process.stdout.readline()).decode()
    assert "listening on http://" in line, (home / "stderr.log").read_text()
    return Gateway(process, f"{host}:{port}")


@pytest.fixture
async def team(tmp_path: Path, upstream: FakeOpenAI, redis_server: RedisServer) -> AsyncIterator[Team]:
    if (reason := nginx_missing()) is not None:
        pytest.skip(reason)
    upstream.delay = 0.15  # each answer takes a while, so a stop or a kill finds some in flight
    config = f'[server]\ndrain_seconds = {DRAIN}\n\n[shared]\nredis = "{redis_server.url}"\n\n'
    config += provider_table("fake", upstream)
    port = free_port_on(ADDRESSES)
    one, two = await asyncio.gather(
        serve(tmp_path / "one", config, ADDRESSES[0], port), serve(tmp_path / "two", config, ADDRESSES[1], port)
    )
    (tmp_path / "nginx").mkdir()
    nginx = Nginx(tmp_path / "nginx", ADDRESSES, port)
    checked = nginx.check()
    assert checked.returncode == 0, checked.stderr
    nginx.start()
    try:
        yield Team((one, two), nginx)
    finally:
        nginx.stop()
        for gateway in (one, two):
            if gateway.process.returncode is None:
                gateway.process.kill()
            await gateway.process.wait()


async def load(url: str, seen: Seen, until: asyncio.Event) -> None:
    """``CLIENTS`` clients, each sending chat completions one after another until ``until`` is set."""

    async def client(session: aiohttp.ClientSession) -> None:
        while not until.is_set():
            started = time.monotonic()
            try:
                async with session.post(f"{url}/v1/chat/completions", json=CHAT) as response:
                    await response.read()
                    seen.answers.append((started, response.status))
            except aiohttp.ClientError:
                seen.answers.append((started, 0))

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))


async def test_requests_spread_over_both_gateways(team: Team) -> None:
    seen, done = Seen(), asyncio.Event()
    asyncio.get_running_loop().call_later(1.5, done.set)
    await load(team.nginx.url, seen, done)
    assert seen.failed() == []
    served = team.nginx.served_by()
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
    served = team.nginx.served_by()
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
    served = team.nginx.served_by()
    retried = [a for a in served if "," in a]  # refused by the dead one, then sent to the survivor
    assert all(a.endswith(survivor.address) for a in retried)
