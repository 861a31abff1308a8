"""Two ``python -m gateway serve`` processes behind the real nginx (``servers.nginx``), on loopback:
each on an address of its own (127.0.0.2, 127.0.0.3: all of 127/8 is loopback), both on one port
as in the compose file, each with its own state folder. A gateway killed may be started again on
its folder and address. ``load`` is a few clients sending chat completions until told to stop."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from conftest import FAKE_KEY, free_ports
from test_cli import child_env

from servers.nginx import Nginx, nginx_missing

ADDRESSES = ("127.0.0.2", "127.0.0.3")
CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
CLIENTS = 8


@dataclass
class Gateway:
    """One serving process, its state folder (``home``, its ``config.toml`` there) and what it was started with."""

    process: asyncio.subprocess.Process
    home: Path
    host: str
    port: int
    env: dict[str, str]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def config(self) -> Path:
        return self.home / "config.toml"


@dataclass
class Team:
    gateways: tuple[Gateway, Gateway]
    nginx: Nginx


@dataclass
class Seen:
    """What the clients saw: each request's start (monotonic) and status (0: the connection failed),
    and the ``x-request-id`` of each answered with 200."""

    answers: list[tuple[float, int]] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)

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


async def serve(home: Path, config: str, host: str, port: int, env: Mapping[str, str] = {}) -> Gateway:
    """``serve`` on ``home`` (made if new, its config written) once it says it listens; ``env`` added to the
    child's (the fake provider's key is there already)."""
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(config, encoding="utf-8")
    extra = {"FAKE_KEY": FAKE_KEY, **env}
    with (home / "stderr.log").open("ab") as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "serve", "--host", host, "--port", str(port), "--log-level", "warning",
            env=child_env(home, **extra), stdout=asyncio.subprocess.PIPE, stderr=errors,
        )  # fmt: skip
    assert process.stdout is not None
    async with asyncio.timeout(20):
        line = (await process.stdout.readline()).decode()
    assert "listening on http://" in line, (home / "stderr.log").read_text()
    return Gateway(process, home, host, port, extra)


async def serve_again(gateway: Gateway) -> Gateway:
    """The same gateway started again on its folder, address and settings (after it was killed)."""
    assert gateway.process.returncode is not None
    return await serve(
        gateway.home, gateway.config.read_text(encoding="utf-8"), gateway.host, gateway.port, gateway.env
    )


async def stop(gateway: Gateway) -> None:
    if gateway.process.returncode is None:
        gateway.process.kill()
    await gateway.process.wait()


@asynccontextmanager
async def balanced(folder: Path, config: str, env: Mapping[str, str] = {}) -> AsyncIterator[Team]:
    """Two gateways with ``config`` (folders ``one`` and ``two`` in ``folder``) behind nginx; all stopped after."""
    if (reason := nginx_missing()) is not None:
        pytest.skip(reason)
    port = free_port_on(ADDRESSES)
    made = await asyncio.gather(
        serve(folder / "one", config, ADDRESSES[0], port, env),
        serve(folder / "two", config, ADDRESSES[1], port, env),
        return_exceptions=True,  # each is waited for: one started while the other failed is stopped below
    )
    running = [gateway for gateway in made if isinstance(gateway, Gateway)]
    (folder / "nginx").mkdir()
    nginx = Nginx(folder / "nginx", ADDRESSES, port)
    team: Team | None = None
    try:
        for failed in made:
            if isinstance(failed, BaseException):
                raise failed
        checked = nginx.check()
        assert checked.returncode == 0, checked.stderr
        team = Team((running[0], running[1]), nginx)
        nginx.start()
        yield team
    finally:
        nginx.stop()
        for gateway in [*running, *(team.gateways if team is not None else ())]:  # and one started again
            await stop(gateway)


async def load(url: str, seen: Seen, until: asyncio.Event, headers: Mapping[str, str] = {}) -> None:
    """``CLIENTS`` clients, each sending chat completions one after another until ``until`` is set."""

    async def client(session: aiohttp.ClientSession) -> None:
        while not until.is_set():
            started = time.monotonic()
            try:
                async with session.post(f"{url}/v1/chat/completions", json=CHAT, headers=headers) as response:
                    await response.read()
                    seen.answers.append((started, response.status))
                    if response.status == 200:
                        seen.answered.append(response.headers["x-request-id"])
            except aiohttp.ClientError:
                seen.answers.append((started, 0))

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
