"""The app against a real in-process gateway: the gateway on the host's own thread, as in the
app, and the fake upstreams on a loop thread of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import WAIT_MS, LoopThread, MakeApp
from pytestqt.qtbot import QtBot

from app.application import Application
from app.gateway_host import GatewayHost
from app.platform.autostart import XdgAutostart
from gateway import resolve_paths
from gateway.launch import gateway_server, read_settings
from gateway.store.secrets import MemorySecrets


@pytest.fixture
def fakes() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture
def make_app(qtbot: QtBot, tmp_path: Path) -> Iterator[MakeApp]:
    """An Application over a gateway from ``env`` and ``config``, with its own state folder and
    an in-memory secret store that lasts across restarts; the browser is a list of URLs."""
    made: list[Application] = []

    def make(env: dict[str, str] | None = None, config: str = "", *, tray: bool = False) -> Application:
        paths = resolve_paths(tmp_path / "home", {})
        paths.ensure()
        paths.config_file.write_text('[providers.ollama]\nenabled = false\n\n' + config, encoding="utf-8")
        environ = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), **(env or {})}
        secrets = MemorySecrets()
        host = GatewayHost(lambda: gateway_server(read_settings(paths, environ, secrets, port=0), paths, environ, secrets))
        opened: list[str] = []
        app = Application(host, XdgAutostart(tmp_path / "autostart-home", ["switchboard"]), tray_available=tray, open_url=opened.append)
        app.opened = opened  # type: ignore[attr-defined]
        app.secrets = secrets  # type: ignore[attr-defined]
        app.start()
        qtbot.waitUntil(lambda: host.serving, timeout=WAIT_MS)
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()
        app.window.deleteLater()
