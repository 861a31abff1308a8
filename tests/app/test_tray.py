"""The tray: its state and tooltip follow the gateway, and each menu entry does what it says."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from app_fixtures import KEY, WAIT_MS, LoopThread, MakeApp
from conftest import LOCAL_OFF
from fakes.openai_upstream import FakeOpenAI
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.viewmodels.health import PAUSED, SERVING
from app.windows.connect import ConnectPage
from gateway.store.provider_keys import set_keys


def _health(url: str) -> int:
    with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
        return int(r.status)


def test_the_menu_is_rebuilt_from_the_state_and_its_entries_work(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app(tray=True)
    url = app.host.url
    assert not app.window.isVisible()  # with a tray it starts in the tray
    app.tray.menu.aboutToShow.emit()
    assert app.tray.menu.actions()[0].text() == "Switchboard — Serving"
    assert app.tray_state().health.state == SERVING
    qtbot.waitUntil(lambda: app.status is not None, timeout=WAIT_MS)
    app.tray.refresh()
    assert url in app.tray.toolTip() and "0 tokens today" in app.tray.toolTip()

    app.tray.action("Copy endpoint address").trigger()
    assert QGuiApplication.clipboard().text() == url

    app.tray.action("Claude Code").trigger()  # Connect a tool ▸ Claude Code
    assert app.window.isVisible() and app.window.current.title == ConnectPage.title
    page = app.window.current
    assert isinstance(page, ConnectPage)
    assert f"ANTHROPIC_BASE_URL={url}" in page.text.toPlainText()

    with qtbot.waitSignal(app.host.stopped, timeout=WAIT_MS):  # the port is let go once stopped
        app.tray.action("Pause the gateway").trigger()
    assert not app.host.serving
    assert app.health().state == PAUSED
    with pytest.raises(urllib.error.URLError):
        _health(url)
    app.tray.menu.aboutToShow.emit()
    app.tray.action("Resume the gateway").trigger()
    qtbot.waitUntil(lambda: app.host.serving, timeout=WAIT_MS)
    assert _health(app.host.url) == 200

    entry = tmp_path / "autostart-home" / "autostart" / "switchboard.desktop"
    app.tray.action("Start at login").trigger()
    assert entry.is_file() and "Exec=switchboard" in entry.read_text(encoding="utf-8")
    app.tray.menu.aboutToShow.emit()
    assert app.tray.action("Start at login").isChecked()
    app.tray.action("Start at login").trigger()
    assert not entry.exists()

    with qtbot.waitSignal(app.quit_requested, timeout=1000):
        app.tray.action("Quit Switchboard").trigger()


def test_without_a_tray_the_window_opens_and_says_why(make_app: MakeApp) -> None:
    app = make_app(tray=False)
    assert app.window.isVisible() and "no system tray" in app.window.notice.text()
    assert not app.window.hide_on_close


def test_an_unreadable_secrets_file_is_kept_typed_so_the_app_can_offer_to_set_it_aside(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """Issue 20, item 11: why the gateway could not start stays on the host as raised; the file is
    left as it was until the fix is taken, and then the gateway starts."""
    from app.gateway_host import GatewayHost
    from gateway import GatewaySetup, SecretsUnreadable, resolve_paths
    from gateway.store.secrets import FILE_NAME, FileSecrets

    paths = resolve_paths(tmp_path / "home", {})
    paths.ensure()
    paths.config_file.write_text(LOCAL_OFF, encoding="utf-8")
    broken = paths.data_dir / FILE_NAME
    broken.write_bytes(b'{"jwt-secret": "')
    host = GatewayHost(
        GatewaySetup(paths, {}, port=0, secrets=lambda data_dir: FileSecrets(data_dir / FILE_NAME)).server
    )
    try:
        with qtbot.waitSignal(host.failed, timeout=WAIT_MS):
            host.start()
        assert isinstance(host.failure, SecretsUnreadable) and host.error == host.failure.message
        assert broken.read_bytes() == b'{"jwt-secret": "'
        host.failure.set_aside()
        with qtbot.waitSignal(host.started, timeout=WAIT_MS):
            host.start()
        assert host.serving and host.failure is None
    finally:
        host.shutdown()


def test_a_busy_port_is_said_notified_and_mended_in_settings(qtbot: QtBot, make_app: MakeApp, tmp_path: Path) -> None:
    first = make_app()
    port = int(first.host.url.rsplit(":", 1)[1])
    from app.application import Application
    from app.gateway_host import GatewayHost
    from app.platform.autostart import XdgAutostart
    from app.windows.settings import SettingsPage
    from gateway import GatewaySetup, resolve_paths
    from gateway.store.secrets import MemorySecrets

    paths = resolve_paths(tmp_path / "second", {})
    paths.ensure()
    paths.config_file.write_text(
        f"# my settings\n[server]\nport = {port}  # the usual one\n{LOCAL_OFF}", encoding="utf-8"
    )
    secrets = MemorySecrets()
    setup = GatewaySetup(paths, {}, secrets=lambda _: secrets)
    host = GatewayHost(setup.server)
    second = Application(
        host, XdgAutostart(tmp_path / "x", ["switchboard"]), setup, tray_available=False, update_check_ms=None
    )
    with qtbot.waitSignal(host.failed, timeout=WAIT_MS):
        second.start()
    assert not host.serving and "already in use" in host.error
    assert second.notified[-1].title == "Switchboard could not start" and second.health().state == "stopped"
    try:
        # The window opened on the failure; Settings works without a gateway: a free port, and it serves.
        page = second.window.go(SettingsPage.title)
        assert isinstance(page, SettingsPage)
        qtbot.waitUntil(lambda: page.port.value() == port, timeout=WAIT_MS)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free = probe.getsockname()[1]
        page.port.setValue(free)
        page.apply_button.click()
        qtbot.waitUntil(lambda: host.serving, timeout=WAIT_MS)
        assert host.url.endswith(f":{free}")
        text = paths.config_file.read_text(encoding="utf-8")
        assert f"port = {free}" in text and "# my settings" in text and "[providers.vllm]" in text
    finally:
        second.close()
        second.window.deleteLater()


def test_status_json_is_what_the_pages_read(make_app: MakeApp, qtbot: QtBot) -> None:
    app = make_app()
    qtbot.waitUntil(lambda: app.status is not None, timeout=WAIT_MS)
    assert app.status is not None
    json.dumps(app.status)  # plain data, nothing Qt
    assert {"providers", "accounts", "quota", "failing", "today", "access"} <= set(app.status)


def test_keys_and_settings_apply_live_and_a_change_that_cannot_is_said(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app = make_app({"GROQ_BASE_URL": fake.url})
    server, url = app.host.server, app.host.url
    assert server is not None and "groq" not in {p.id for p in server.gateway.providers}
    set_keys(app.secrets, "groq", (KEY,))  # type: ignore[attr-defined]  # as the Providers page stores it
    with qtbot.waitSignal(app.host.applied, timeout=WAIT_MS):
        app.reconfigure()
    assert app.host.server is server and app.host.url == url  # the same gateway: nothing restarted
    assert "groq" in {p.id for p in server.gateway.providers}

    config = server.settings.config_file
    assert config is not None
    config.write_text(config.read_text(encoding="utf-8") + '[routing]\ncooldown_seconds = "soon"\n', encoding="utf-8")
    with qtbot.waitSignal(app.host.refused, timeout=WAIT_MS):
        app.reconfigure()
    notice = app.notified[-1]
    assert notice.title == "Switchboard kept its settings" and "cooldown_seconds" in notice.text
    assert app.host.server is server and _health(url) == 200 and app.health().state == SERVING
    fakes.run(fake.stop())
