"""Live settings under pressure (issue 21 review): a settings change that is still being applied
when the gateway stops, when its caller goes away, or when a provider key changes beside it; and
a new port refused in words the app can show (the app has no command line to point at)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest
from conftest import FAKE_KEY, StartGateway, free_ports, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway import ConfigError, GatewayServer, Settings, load_settings
from gateway.config.editing import SettingsFile
from gateway.providers.base import ChatProvider
from gateway.store.provider_keys import stored_keys
from gateway.store.secrets import MemorySecrets

ENV = {"FAKE_KEY": FAKE_KEY}
NEW_KEY = "sk-fake-upstream-key-0002"
WAIT = 10.0


class HeldReload:
    """The settings read again as a start reads them, but the next read waits in its worker
    thread until ``release()``: a reconfigure caught in the middle."""

    def __init__(self, config: Path) -> None:
        self._config = config
        self._hold = threading.Event()
        self.entered = threading.Event()
        self._go = threading.Event()

    def __call__(self) -> Settings:
        if self._hold.is_set():
            self._hold.clear()
            self.entered.set()
            self._go.wait(WAIT)
        return load_settings(self._config, ENV, port=0)

    def hold_next(self) -> Callable[[], None]:
        """Hold the next read; what releases it."""
        self._hold.set()
        return self._go.set

    async def reached(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, WAIT), "the reconfigure never read the settings"


async def eventually(condition: Callable[[], Awaitable[bool]]) -> bool:
    for _ in range(int(WAIT / 0.02)):
        if await condition():
            return True
        await asyncio.sleep(0.02)
    return False


def model_syncs() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "model-sync" and not t.done()]


async def started(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> tuple[GatewayServer, HeldReload]:
    config = tmp_path / "config0.toml"
    reload = HeldReload(config)
    server = await start_gateway(
        provider_table("fake", upstream),
        ENV,
        reload=reload,
        secrets=MemorySecrets(),
        settings_file=SettingsFile(config, lambda staged: load_settings(staged, ENV, port=0)),
    )
    return server, reload


async def test_a_stop_during_a_settings_change_leaves_no_model_sync_running(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    server, reload = await started(start_gateway, upstream, tmp_path)
    release = reload.hold_next()
    applying = asyncio.create_task(server.reconfigure())
    await reload.reached()
    stopping = asyncio.create_task(server.stop())
    await asyncio.sleep(0.05)
    release()
    await applying
    await stopping
    await asyncio.sleep(0)
    # Before: the stop finished first, and the change then swapped in a pipeline whose model sync
    # ran on after the server had stopped (every refresh interval, over a closed transport).
    assert model_syncs() == []


async def test_a_settings_change_whose_caller_goes_away_is_applied_and_audited(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    server, reload = await started(start_gateway, upstream, tmp_path)
    control = server.control
    assert control is not None
    release = reload.hold_next()
    asked = asyncio.create_task(control.change_settings([("routing", "cooldown_seconds", 5)], "test"))
    await reload.reached()
    asked.cancel()  # an HTTP client that hangs up (aiohttp cancels its handler)
    release()
    with pytest.raises(asyncio.CancelledError):
        await asked

    async def applied_and_audited() -> bool:
        edits = [e["payload"]["keys"] for e in await control.audit_events() if e["action"] == "config.edited"]
        return server.settings.routing.policy.cooldown == 5.0 and edits == [["routing.cooldown_seconds"]]

    # Before: the file stayed edited, neither applied nor put back, and no audit event said so.
    assert await eventually(applied_and_audited)


async def test_a_provider_key_waits_for_a_settings_change_being_applied(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    server, reload = await started(start_gateway, upstream, tmp_path)
    control, state = server.control, server.state
    assert control is not None and state is not None
    release = reload.hold_next()
    editing = asyncio.create_task(control.change_settings([("routing", "cooldown_seconds", 5)], "test"))
    await reload.reached()
    storing = asyncio.create_task(control.store_provider_keys("fake", (NEW_KEY,), "test"))
    await asyncio.sleep(0.2)
    # Before: the key was written while the edit was being applied (one lock each), so the edit's
    # apply or undo and the key's raced, and one could be refused for the other's reason.
    assert "fake" not in stored_keys(state.secrets) and not storing.done()
    release()
    edit, change = await editing, await storing
    assert edit["applied"] and change["applied"] and stored_keys(state.secrets)["fake"] == (NEW_KEY,)


async def test_a_new_port_refused_names_no_command_line_flag(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "config0.toml"
    server = await start_gateway(provider_table("fake", upstream), ENV, reload=lambda: load_settings(config, ENV))
    (taken,) = free_ports(1)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", taken))
        busy.listen()
        config.write_text(config.read_text() + f"[server]\nport = {taken}\n")
        with pytest.raises(ConfigError) as refused:
            await server.reconfigure()
    message = str(refused.value)
    assert "already in use" in message and "--port" not in message, message


async def test_a_provider_tested_while_a_change_removes_it_is_answered(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config0.toml"
    server = await start_gateway(provider_table("fake", upstream), ENV, reload=lambda: load_settings(config, ENV))
    control, before = server.control, server.gateway
    assert control is not None
    ask = before.sync.refresh
    written = config.read_text()

    async def asked_then_removed(providers: Sequence[ChatProvider] | None = None) -> bool:
        answered = await ask(providers)
        config.write_text(written.replace("[providers.fake]", "[providers.fake]\nenabled = false"))
        await server.reconfigure()  # a settings change lands while the Test waits for its answer
        return answered

    monkeypatch.setattr(before.sync, "refresh", asked_then_removed)
    tested = await control.test_provider("fake")
    # Before: its rests were lifted on the pipeline swapped in meanwhile, which has no such provider
    # (KeyError); now on the one that asked it.
    assert tested["ok"] and server.gateway is not before
    assert "fake" not in {p.id for p in server.gateway.providers}
