"""What a settings change applied live carries on from the gateway it changes (issue 21 review): the
audit log's record of where and how it listens (LAN mode switched live is audited as a start audits
it), the model lists it holds (a provider that is down holds no request after a change), and the
ports it listened on (a connection kept alive on the old port is still served)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from conftest import FAKE_KEY, StartGateway, free_ports, provider_table
from fakes.openai_upstream import FakeOpenAI
from test_live_settings import answered

from gateway import load_settings
from gateway.admin.state import State
from gateway.clock import SystemClock
from gateway.config.editing import SettingsFile
from gateway.store.secrets import MemorySecrets

ENV = {"FAKE_KEY": FAKE_KEY}
WAIT = 10.0


async def eventually(condition: Callable[[], bool]) -> bool:
    for _ in range(int(WAIT / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_lan_mode_switched_on_and_off_live_is_audited(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "config0.toml"
    server = await start_gateway(
        provider_table("fake", upstream),
        ENV,
        settings_file=SettingsFile(config, lambda staged: load_settings(staged, ENV, port=0)),
    )
    control = server.control
    assert control is not None
    await control.create_key("laptop", "standard", {}, "test")  # LAN mode needs one
    for host in ("0.0.0.0", "127.0.0.1"):  # through the admin door, as the app's LAN switch does
        assert (await control.change_settings([("server", "host", host)], "test"))["applied"]
        assert server.settings.server.host == host
    events = await control.audit_events()
    # Before: only the two config.edited events said so (the bind was audited at a start only).
    assert [e["action"] for e in events] == [
        "gateway.started",
        "key.created",
        "lan_mode.on",
        "config.bind_changed",
        "config.edited",
        "lan_mode.off",
        "config.bind_changed",
        "config.edited",
    ]
    binds = [e["payload"] for e in events if e["action"] == "config.bind_changed"]
    assert [(b["before"]["host"], b["after"]["host"]) for b in binds] == [
        ("127.0.0.1", "0.0.0.0"),
        ("0.0.0.0", "127.0.0.1"),
    ]
    assert (await control.audit_verify())["ok"]


async def test_a_provider_that_is_down_holds_no_request_after_a_change(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    (closed,) = free_ports(1)  # nothing listens there: its model list cannot be had
    down = (
        f'[providers.down]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:{closed}/v1"\n'
        'api_key_env = "FAKE_KEY"\n'
    )
    server = await start_gateway(provider_table("fake", upstream) + down, ENV)
    assert await eventually(lambda: server.gateway.sync.ready)  # the first round, "down" failing in it
    assert server.gateway.sync.last_error("down") is not None
    config = tmp_path / "config0.toml"
    config.write_text(config.read_text() + "[routing]\ncooldown_seconds = 5\n")
    await server.reconfigure()
    # Before: the new pipeline's sync waited for a first round of its own (for the list "down"
    # never gives), so every request after a change waited for it, up to ROUTE_WAIT.
    assert server.gateway.sync.ready
    assert server.gateway.sync.last_error("down") is not None
    assert await answered(server.url) == 200


async def test_a_connection_kept_alive_on_the_old_port_is_served_after_a_move(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "config0.toml"
    server = await start_gateway(provider_table("fake", upstream), ENV, reload=lambda: load_settings(config, ENV))
    assert server.port is not None
    old = server.port
    (wanted,) = free_ports(1)
    reader, writer = await asyncio.open_connection("127.0.0.1", old)
    try:
        assert await health(reader, writer, old) == 200
        config.write_text(config.read_text() + f"[server]\nport = {wanted}\n")
        await server.reconfigure()
        assert server.port == wanted
        # Before: 403, "Host '127.0.0.1:<old>' is not allowed" (the new guard knew the new port only).
        assert await health(reader, writer, old) == 200  # the same connection, kept alive
    finally:
        writer.close()
        await writer.wait_closed()


async def health(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int) -> int:
    """GET /health on an open connection, kept alive; the answer's status."""
    writer.write(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)).decode("latin-1")
    lines = head.split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
    assert "close" not in fields.get("connection", ""), head
    await reader.readexactly(int(fields["content-length"]))
    return int(lines[0].split()[1])


async def test_a_start_after_a_live_change_compares_with_that_change(tmp_path: Path) -> None:
    state = State(tmp_path, MemorySecrets(), SystemClock())
    state.open()
    try:
        await state.started("0.0.0.0", 8080, True, True, None)
        await state.rebound("127.0.0.1", 8080, False, False)  # LAN mode switched off live
        await state.started("127.0.0.1", 8080, False, False, None)  # then a start where it was left
        rows = await state.db.writer.call(lambda c: c.execute("SELECT action FROM audit ORDER BY seq").fetchall())
    finally:
        state.close()
    # The start finds the bind as the change left it: no second lan_mode.off, no bind change.
    assert [action for (action,) in rows] == [
        "gateway.started",
        "lan_mode.off",
        "config.bind_changed",
        "gateway.started",
    ]
