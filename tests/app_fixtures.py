"""The app against a real in-process gateway: the gateway on the host's own thread, as in the
app, and the fake upstreams on a loop thread of their own. Registered by tests/conftest.py (a
conftest.py in tests/app would shadow that one for the modules that import from it)."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from conftest import LOCAL_OFF
from fakes.chatgpt import FakeChatGPT
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.application import Application
from app.first_run import FILE_NAME as FIRST_RUN_FILE
from app.first_run import TRAY_NOTICE, WELCOMED
from app.gateway_host import GatewayHost
from app.platform.autostart import XdgAutostart
from app.tasks import cancel_all, closing_async_generators
from gateway import GatewaySetup, StatePaths, resolve_paths
from gateway.store.secrets import MemorySecrets, SecretStore

T = TypeVar("T")
WAIT_MS = 15_000
KEY = "sk-app-test-upstream-key-01"  # what the fake upstreams here take
MakeApp = Callable[..., Application]


def codex_login(fake: FakeChatGPT, folder: Path) -> dict[str, str]:
    """The environment of a computer with a Codex CLI login (an auth.json ``fake`` issued under
    ``folder``), whose ChatGPT sign-in and models are ``fake``'s."""
    home = folder / "codex-home"
    home.mkdir()
    (home / "auth.json").write_text(json.dumps(fake.auth_file(fake.issue())), encoding="utf-8")
    return {"CODEX_HOME": str(home), "SWITCHBOARD_CODEX_BASE_URL": fake.url, "SWITCHBOARD_OPENAI_AUTH_URL": fake.root}


class LoopThread:
    """An asyncio loop on a thread, for the fakes (the Qt thread's loop, ``qt_loop``, is the app's)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fakes", daemon=True)
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(30)

    def close(self) -> None:
        async def settle() -> None:  # connections the fakes still hold end before the loop does
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(settle())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture
def fakes() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def settle(loop: Any, qtbot: QtBot) -> None:
    """What the app's own loop has under way is cancelled and let finish, as app/__main__ does on quitting."""
    if asyncio.all_tasks(loop):
        settled = loop.create_task(cancel_all())
        qtbot.waitUntil(settled.done, timeout=WAIT_MS)


@pytest.fixture(scope="session")
def qasync_loop(qapp: QApplication) -> Iterator[Any]:
    """One qasync loop over the session's QApplication, as the app has one for its whole life: a
    loop made and dropped per test would leave Qt timers behind on an object Python may free."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio._set_running_loop(None)  # it runs only in the tests that ask for it (qt_loop)
    workers = qasync.QThreadExecutor()  # asyncio.to_thread's, stopped before Qt goes
    loop.set_default_executor(workers)
    yield loop
    workers.shutdown()


@pytest.fixture
def qt_loop(qasync_loop: Any, qtbot: QtBot) -> Iterator[Any]:
    """The Qt thread's asyncio loop, qasync's, as app/__main__ runs it. Qt runs whenever qtbot
    waits, so the loop counts as running for the whole test. After it, what the test left under
    way is cancelled and let finish, and the thread has no running loop again (pytest-asyncio's
    tests run their own)."""
    asyncio._set_running_loop(qasync_loop)
    try:
        with closing_async_generators(qasync_loop):
            yield qasync_loop
            settle(qasync_loop, qtbot)
    finally:
        asyncio._set_running_loop(None)


@pytest.fixture
def make_app(qtbot: QtBot, tmp_path: Path, qt_loop: Any) -> Iterator[MakeApp]:
    """An Application over a gateway from ``env`` and ``config``, with its own state folder and
    an in-memory secret store that lasts across restarts; the browser is a list of URLs."""
    made: list[Application] = []

    def make(
        env: dict[str, str] | None = None,
        config: str = "",
        *,
        tray: bool = False,
        platform_folders: bool = False,
        first_run: bool = False,
        opener: Callable[[Path], SecretStore] | None = None,
        starts: bool = True,
    ) -> Application:
        # platform_folders: the state in the platform's (three) folders, as without --home, so it can
        # be moved from Settings; else in one --home folder. first_run: the welcome and the tray's
        # first notice still to come (else they are marked as seen, so other tests get no extra window).
        # opener: how the app opens its secret store (a real file), in place of the in-memory one.
        # starts=False: the gateway is expected not to start (its ``failed`` is awaited instead).
        defaults = StatePaths(tmp_path / "config", tmp_path / "share", tmp_path / "logs")
        paths = defaults if platform_folders else resolve_paths(tmp_path / "home", {})
        paths.ensure()
        paths.config_file.write_text(LOCAL_OFF + config, encoding="utf-8")
        if not first_run:
            (paths.data_dir / FIRST_RUN_FILE).write_text(json.dumps({WELCOMED: True, TRAY_NOTICE: True}))
        environ = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), **(env or {})}
        stores: dict[Path, MemorySecrets] = {}  # one namespace per data folder, as in the keychain

        def secrets_for(data_dir: Path) -> MemorySecrets:
            return stores.setdefault(data_dir.resolve(), MemorySecrets())

        secrets = secrets_for(paths.data_dir)
        setup = GatewaySetup(paths, environ, port=0, secrets=opener or secrets_for, defaults=defaults)
        host = GatewayHost(setup.server)
        opened: list[str] = []
        autostart = XdgAutostart(tmp_path / "autostart-home", ["switchboard"])
        app = Application(
            host, autostart, setup, tray_available=tray, open_url=opened.append, update_check_ms=None
        )  # no feed is asked unbidden
        app.opened = opened  # type: ignore[attr-defined]
        app.secrets = secrets  # type: ignore[attr-defined]
        app.stores = stores  # type: ignore[attr-defined]
        # Until the start is heard on the Qt thread, not only done on the gateway's: a ``started`` still
        # on its way would otherwise reach the pages in the middle of the test (and end its notes early).
        with qtbot.waitSignal(host.started if starts else host.failed, timeout=WAIT_MS):
            app.start()
        made.append(app)
        return app

    yield make
    settle(qt_loop, qtbot)  # first, as on quitting: a later wait would also run the closed windows' timers
    for app in made:
        app.close()
        app.window.deleteLater()
    made.clear()
    # What the test left in reference cycles (widgets, lambdas over them) is freed here, on the Qt
    # thread: left to a later automatic collection it may be freed on another test's gateway thread,
    # and a Qt object destroyed off its thread can crash the process.
    gc.collect()
