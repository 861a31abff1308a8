"""Settings apply live (issue 21): a change builds a new pipeline beside the one serving and swaps
it in. A stream in flight finishes on the old one, the next request takes the new one, and nothing
restarts; a new address is listened on without dropping a connection; settings that cannot be
applied are refused with the reason while the running pipeline serves on."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from conftest import FAKE_KEY, StartGateway, free_ports, provider_table
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script
from test_streaming import BODY, data_events, read_until

from gateway import ConfigError, load_settings
from gateway.store.provider_keys import set_keys, stored_keys
from gateway.store.secrets import MemorySecrets

NEW_KEY = "sk-fake-upstream-key-0002"
WHOLE = "Hello from the fake upstream!"
PLAIN = {**BODY, "stream": False}


def text_of(raw: bytes) -> str:
    events = data_events(raw)
    assert events[-1] == b"[DONE]", raw
    return "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1])


def keys_sent(upstream: FakeOpenAI) -> list[str]:
    return [r.headers.get("Authorization", "") for r in upstream.requests_to("/chat/completions")]


async def answered(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.post(f"{url}/v1/chat/completions", json=PLAIN) as r:
        await r.read()
        return r.status


async def refused(url: str) -> bool:
    try:
        await answered(url)
    except aiohttp.ClientConnectionError:
        return True
    return False


@pytest.fixture
def root_level() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


async def test_a_key_changed_mid_stream_serves_the_next_request(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    secrets = MemorySecrets()
    set_keys(secrets, "fake", (FAKE_KEY,))  # stored, as the Providers page keeps it
    upstream.accept(NEW_KEY)
    server = await start_gateway(provider_table("fake", upstream), {}, secrets=secrets)
    control, port, before = server.control, server.port, server.gateway
    assert control is not None
    told: list[str] = []
    server.on_applied.append(lambda: told.append(server.url))  # how the app hears of it
    upstream.then(Script("held", after_events=2))
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/v1/chat/completions", json=BODY) as stream:
            first = await read_until(stream, b'"Hello"')
            change = await control.store_provider_keys("fake", (NEW_KEY,), "test")  # the admin door
            assert change["applied"] and stored_keys(secrets)["fake"] == (NEW_KEY,)
            assert server.gateway is not before and told == [server.url]  # swapped while the stream is held
            upstream.gate.set()
            rest = await stream.read()
        assert text_of(first + rest) == WHOLE  # whole, on the pipeline and key it began with
        async with session.post(f"{server.url}/v1/chat/completions", json=PLAIN) as answer:
            assert answer.status == 200
            assert json.loads(await answer.read())["choices"][0]["message"]["content"] == WHOLE
    assert keys_sent(upstream) == [f"Bearer {FAKE_KEY}", f"Bearer {NEW_KEY}"]
    # Nothing restarted: the same server, port, admin door and accountant (its totals go on).
    assert server.port == port and server.control is control and control.gateway is server.gateway
    assert server.gateway.accounting is before.accounting


async def test_settings_that_cannot_be_applied_leave_the_running_ones(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    server = await start_gateway(provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY})
    before, config = server.gateway, tmp_path / "config0.toml"
    written = config.read_text()
    config.write_text(written + '[routing]\ncooldown_seconds = "soon"\n')
    with pytest.raises(ConfigError, match="cooldown_seconds"):
        await server.reconfigure()
    config.write_text(written + '[server]\nhost = "0.0.0.0"\n')
    with pytest.raises(ConfigError, match="client key"):  # beyond loopback with no client key: refused
        await server.reconfigure()
    assert server.gateway is before and server.settings.server.host == "127.0.0.1"
    assert await answered(server.url) == 200


async def test_a_new_port_is_listened_on_while_a_stream_finishes_on_the_old(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "config0.toml"
    env = {"FAKE_KEY": FAKE_KEY}
    server = await start_gateway(provider_table("fake", upstream), env, reload=lambda: load_settings(config, env))
    old_url = server.url
    taken, wanted = free_ports(2)
    with socket.socket() as busy:  # a port another program holds: refused, still listening where it was
        busy.bind(("127.0.0.1", taken))
        busy.listen()
        config.write_text(config.read_text() + f"[server]\nport = {taken}\n")
        with pytest.raises(ConfigError, match="already in use"):
            await server.reconfigure()
        assert server.url == old_url and await answered(old_url) == 200
    upstream.then(Script("held", after_events=2))
    async with aiohttp.ClientSession() as session, session.post(f"{old_url}/v1/chat/completions", json=BODY) as s:
        first = await read_until(s, b'"Hello"')
        config.write_text(config.read_text().replace(f"port = {taken}", f"port = {wanted}"))
        await server.reconfigure()
        assert server.port == wanted and server.url == f"http://127.0.0.1:{wanted}"
        assert await answered(server.url) == 200
        upstream.gate.set()
        assert text_of(first + await s.read()) == WHOLE  # the stream begun on the old port, whole
    assert await refused(old_url)


async def test_the_log_level_applies_at_once(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path, root_level: None
) -> None:
    config_text = provider_table("fake", upstream) + '[server]\nlog_level = "warning"\n'
    server = await start_gateway(config_text, {"FAKE_KEY": FAKE_KEY})
    logging.getLogger().setLevel(logging.WARNING)
    config = tmp_path / "config0.toml"
    config.write_text(config.read_text().replace('log_level = "warning"', 'log_level = "debug"'))
    await server.reconfigure()
    assert logging.getLogger().level == logging.DEBUG and server.settings.server.log_level == "debug"


async def test_lan_mode_on_the_same_port_moves_the_listener_there(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "config0.toml"
    env = {"FAKE_KEY": FAKE_KEY}
    (port,) = free_ports(1)
    server = await start_gateway(
        provider_table("fake", upstream) + f"[server]\nport = {port}\n", env, reload=lambda: load_settings(config, env)
    )
    await server.reconfigure()  # from the fixture's port 0 to the file's
    assert server.control is not None and server.port == port
    created = await server.control.create_key("laptop", "standard", {}, "test")  # LAN mode needs one
    config.write_text(config.read_text().replace(f"port = {port}", f'port = {port}\nhost = "0.0.0.0"'))
    await server.reconfigure()  # 0.0.0.0 overlaps 127.0.0.1 on one port: the old site closes first
    assert server.port == port and server.settings.server.host == "0.0.0.0"
    headers = {"Authorization": f"Bearer {created['key']}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=PLAIN, headers=headers) as answer,
    ):
        assert answer.status == 200


async def test_a_changed_shared_redis_is_said_to_hold_until_the_next_start(
    start_gateway: StartGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Its client and the limits' windows in it are made once: a change applied "now" must not pass in silence."""
    server = await start_gateway('[shared]\nredis = "redis://127.0.0.1:1/0"\n')  # never asked: nothing limited
    (tmp_path / "config0.toml").write_text("")
    with caplog.at_level(logging.WARNING, logger="gateway"):
        await server.reconfigure()
    assert "[shared] redis was changed" in caplog.text
