"""Shared fixtures: fake upstreams on loopback and a gateway started against them."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `from fakes...` in every test module

from fakes.anthropic_upstream import FakeAnthropic
from fakes.openai_upstream import FakeOpenAI
from fakes.sink import Sink
from fakes.upstream import FakeUpstream

from gateway import GatewayServer, Settings, load_settings
from gateway.store.provider_keys import stored_keys
from gateway.store.secrets import MemorySecrets, SecretStore

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest_plugins = ("app_fixtures", "tool_places", "servers.redis")  # the tray app's fixtures, tool-setup places, Redis

FAKE_KEY = "sk-fake-upstream-key-0001"
ANTHROPIC_KEY = "sk-ant-fake-upstream-0001"
StartGateway = Callable[..., Awaitable[GatewayServer]]
LOCAL_SERVERS = ("ollama", "lmstudio", "llamacpp", "vllm")


def local_off(*configured: str) -> str:
    """The local servers the gateway looks for on their usual ports, switched off so tests do not
    depend on what runs on the machine; but those ``configured``, which a test points at its fakes."""
    return "".join(f"[providers.{p}]\nenabled = false\n" for p in LOCAL_SERVERS if p not in configured) + "\n"


LOCAL_OFF = local_off()


def free_ports(n: int) -> tuple[int, ...]:
    """``n`` distinct loopback ports free now (all held open together while they are picked)."""
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = tuple(s.getsockname()[1] for s in sockets)
    for s in sockets:
        s.close()
    return ports


def provider_table(name: str, fake: FakeUpstream, *, extra: str = "") -> str:
    return (
        f'[providers.{name}]\nkind = "{fake.kind}"\nbase_url = "{fake.url}"\n'
        f'api_key_env = "{name.upper()}_KEY"\n{extra}\n'
    )


def error_body(body: object) -> dict[str, Any]:
    """The JSON object an SDK parsed from an error answer (the SDKs type an error's body ``object``)."""
    assert isinstance(body, dict)
    return body


@pytest.fixture
async def upstream() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=FAKE_KEY).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def anthropic_upstream() -> AsyncIterator[FakeAnthropic]:
    fake = await FakeAnthropic(key=ANTHROPIC_KEY).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    s = await Sink().start()
    yield s
    await s.stop()


@pytest.fixture
async def start_gateway(tmp_path: Path) -> AsyncIterator[StartGateway]:
    """Start a gateway on a free loopback port from a config text and an environment, with its
    own state folder and an in-memory secret store (unless the test passes its own)."""
    started: list[GatewayServer] = []

    async def start(config: str = "", env: dict[str, str] | None = None, **kwargs: object) -> GatewayServer:
        config_file = tmp_path / f"config{len(started)}.toml"
        config_file.write_text(LOCAL_OFF + config, encoding="utf-8")
        data_dir = tmp_path / f"state{len(started)}"
        data_dir.mkdir(mode=0o700, exist_ok=True)
        kwargs.setdefault("data_dir", data_dir)
        secrets = cast(SecretStore, kwargs.setdefault("secrets", MemorySecrets()))

        def read() -> Settings:  # at this start, and again at each reconfigure
            return load_settings(config_file, env or {}, port=0, stored_keys=stored_keys(secrets))

        kwargs.setdefault("reload", read)
        server = GatewayServer(read(), **kwargs)  # type: ignore[arg-type]
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
async def gateway(start_gateway: StartGateway, upstream: FakeOpenAI) -> GatewayServer:
    """A gateway with one provider, ``fake``, in front of the fake upstream."""
    return await start_gateway(
        provider_table("fake", upstream, extra="read_timeout = 2\nconnect_timeout = 1"),
        {"FAKE_KEY": FAKE_KEY},
    )
