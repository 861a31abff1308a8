"""``python -m app`` (or ``switchboard``): the tray app. Without a display it runs the headless
gateway instead, saying so.

Exit codes: 0 on quit (and when another instance was asked to show itself), 1 when it could not
run, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path

from gateway import (
    LOG_LEVELS,
    ConfigError,
    GatewaySetup,
    StatePaths,
    __version__,
    run_headless,
    run_self_test,
    start_logging,
    tune_for_serving,
)

APP_ID = "switchboard"


def has_display(env: os._Environ[str] | dict[str, str], platform: str = sys.platform) -> bool:
    """Qt aborts when it has nowhere to draw (shared/platform.md §1); Linux needs X or Wayland
    unless a platform plugin is chosen (offscreen, in tests)."""
    if platform in ("win32", "darwin") or env.get("QT_QPA_PLATFORM"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard", description="Switchboard: the tray app and its local LLM gateway."
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--home", help="keep all state in this folder (or set SWITCHBOARD_HOME)")
    parser.add_argument("--port", type=int, help="port to listen on (default 11488; 0 picks a free one)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="default: as Settings say, else info")
    parser.add_argument(
        "--self-test", action="store_true", help="check this install works (the gateway and Qt); exit 0 if so"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.self_test:
        return _self_test()
    if args.port is not None and not 0 <= args.port <= 65535:
        print(f"switchboard: --port must be from 0 to 65535, not {args.port}", file=sys.stderr)
        return 2
    if not has_display(os.environ):
        print("switchboard: no display here, so the gateway runs without its window (python -m gateway).", flush=True)
        passed = [
            f"--{k.replace('_', '-')}={v}"
            for k, v in (("home", args.home), ("port", args.port), ("log_level", args.log_level))
            if v is not None
        ]
        return run_headless(["serve", *passed])
    os.environ.setdefault("QT_API", "pyside6")  # qasync would otherwise try PyQt first
    return _run_app(args)


def _self_test() -> int:
    """The gateway's self-test with Qt's added: its platform plugin (offscreen where there is no
    display), the widgets and the tray icon drawn — what a frozen bundle could have left out."""
    if not has_display(os.environ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"

    def qt() -> str:
        from PySide6.QtGui import QGuiApplication
        from PySide6.QtWidgets import QApplication, QSystemTrayIcon

        from app.icons import icon

        QApplication.instance() or QApplication([sys.argv[0]])
        if icon("serving").isNull():
            raise RuntimeError("the tray icon could not be drawn")
        tray = "available" if QSystemTrayIcon.isSystemTrayAvailable() else "not available here"
        return f"platform {QGuiApplication.platformName()}, tray {tray}, icon drawn"

    def own_http() -> str:
        """The app's own HTTP (httpx, its async backend, the CA bundle) on qasync's loop, asking a
        server on 127.0.0.1 made here for the purpose."""
        import qasync
        from PySide6.QtWidgets import QApplication

        from app.tasks import closing_async_generators
        from app.update_http import fetch, update_client

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
            writer.close()

        async def ask() -> bytes:
            server = await asyncio.start_server(answer, "127.0.0.1", 0)
            async with server, update_client() as client:
                return await fetch(client, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/", 16)

        with (
            qasync.QEventLoop(QApplication.instance() or QApplication([sys.argv[0]])) as loop,
            closing_async_generators(loop),
        ):
            body: bytes = loop.run_until_complete(ask())
        return f"httpx on the Qt thread's loop answered {body.decode()!r}"

    return run_self_test([("qt", qt), ("app http", own_http)])


def _run_app(args: argparse.Namespace) -> int:
    import qasync
    from PySide6.QtCore import QSocketNotifier, Qt
    from PySide6.QtWidgets import QApplication

    from app.application import Application
    from app.gateway_host import GatewayHost
    from app.platform.autostart import for_platform, launch_command
    from app.single_instance import SingleInstance, ask_running, socket_name
    from app.tasks import cancel_all, closing_async_generators
    from app.theme import apply_theme
    from app.viewmodels.settings import log_level_of, theme_of
    from gateway import MOVABLE, platform_paths, resolve_paths, secrets_opener

    qt = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(qt, QApplication)
    qt.setApplicationName(APP_ID)
    qt.setApplicationDisplayName("Switchboard")
    qt.setDesktopFileName(APP_ID)  # matches the desktop entry's StartupWMClass
    qt.setQuitOnLastWindowClosed(False)
    defaults = platform_paths()
    try:
        paths = resolve_paths(args.home, os.environ, defaults)
        open_secrets = secrets_opener(os.environ)  # takes the passphrase out before a browser is ever started
    except ConfigError as exc:  # the folder it was moved to is gone: said, not started afresh
        from PySide6.QtWidgets import QMessageBox

        print(f"switchboard: {exc}", file=sys.stderr)
        QMessageBox.critical(None, "Switchboard", str(exc))
        return 2
    paths.ensure()
    setup = GatewaySetup(
        paths, os.environ, port=args.port, secrets=open_secrets, open_browser=webbrowser.open, defaults=defaults
    )
    try:
        config = setup.config()
    except ConfigError:
        config = {}  # the gateway says what is wrong when it starts
    apply_theme(qt, theme_of(config))
    # One instance per state; a state that can move from the app is named by the platform's folder.
    name = socket_name(defaults.config_dir if paths.source in MOVABLE else paths.config_dir)
    if ask_running(name):
        print("switchboard: already running; its window was brought forward.", flush=True)
        return 0
    single = SingleInstance(name)
    if not single.listen():
        print("switchboard: could not claim the single-instance socket; going on anyway", file=sys.stderr)
    listener = start_logging(args.log_level or log_level_of(config), paths.log_dir)

    def log_there(moved: StatePaths) -> None:
        nonlocal listener
        before, listener = (
            listener,
            start_logging(logging.getLevelName(logging.getLogger().level).lower(), moved.log_dir),
        )
        before.stop()

    setup.moved.append(log_there)
    host = GatewayHost(setup.server)
    autostart = for_platform(sys.platform, Path.home(), os.environ, launch_command())
    application = Application(host, autostart, setup)
    single.show_requested.connect(application.open_window)
    host.started.connect(lambda url: print(f"Switchboard {__version__} listening on {url}", flush=True))
    # What start-up made (Qt's wrappers, the window, the gateway) lives as long as the process.
    host.started.connect(tune_for_serving, Qt.ConnectionType.SingleShotConnection)
    host.failed.connect(lambda message: print(f"switchboard: {message}", file=sys.stderr, flush=True))

    loop = qasync.QEventLoop(qt)
    asyncio.set_event_loop(loop)
    done = asyncio.Event()
    application.quit_requested.connect(done.set)
    # SIGINT/SIGTERM: qasync has no add_signal_handler; a wake-up socket costs nothing while idle.
    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    signal.set_wakeup_fd(wake_write.fileno())
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    notifier = QSocketNotifier(wake_read.fileno(), QSocketNotifier.Type.Read)

    def woken() -> None:
        with contextlib.suppress(OSError):
            wake_read.recv(64)
        done.set()

    notifier.activated.connect(woken)

    async def run() -> None:
        application.start()
        await done.wait()
        await cancel_all()  # the app's own work under way ends first (a download deletes its partial file)
        application.close()

    try:
        with loop, closing_async_generators(loop):
            loop.run_until_complete(run())
    finally:
        signal.set_wakeup_fd(-1)
        single.close()
        listener.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
