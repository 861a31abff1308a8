"""The app's update check: the release feed asked a minute after start and then daily (unless
Settings switch it off), "update available" with the release notes, the installer downloaded and
proven ours (app/updates.py, app/update_http.py), and installed only once no request is in
flight: the installer is opened and the app quits so it can replace the files.

A check, and a download with its wait for quiet, are each one coroutine on the Qt thread's loop;
quitting cancels them (``tasks.cancel_all``), and a download cancelled leaves no file behind.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import QObject, QTimer, QUrl, Signal

from app.tasks import Tasks, spawn
from app.update_http import check_feed, download_verified, update_client
from app.updates import FEED, Release, installer_name, public_key
from app.words import said_of
from gateway import GatewaySetup, __version__

log = logging.getLogger("app.updates")

FIRST_CHECK_MS = 60_000
EVERY_MS = 24 * 3600 * 1000
IDLE_POLL_S = 2.0
KEY_FILE = "update-key.pub"  # written into the bundle's resources by the release workflow


def built_in_key() -> str:
    """The release key this copy was built with (none in a source checkout)."""
    root = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    path = root / "resources" / KEY_FILE
    return path.read_text(encoding="ascii").strip() if path.is_file() else ""


class Updater(QObject):
    changed = Signal()  # what to show changed: the Settings page and the tray menu read it
    install_now = Signal(str)  # the verified installer: open it, then quit

    def __init__(
        self,
        tasks: Tasks,
        setup: GatewaySetup,
        notify: Callable[[str, str], None],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport``: how httpx reaches the feed (tests watch it; the network by default)."""
        super().__init__()
        self._tasks = tasks
        self._setup = setup
        self._notify = notify
        self._transport = transport
        self.available: Release | None = None
        self.said = ""  # the last thing to tell the user
        self.busy = False  # a check or a download (and its wait for quiet) is under way
        self._told: set[str] = set()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)

    def start(self, first_check_ms: int | None = FIRST_CHECK_MS) -> None:
        """Schedule the daily check (``None``: only when asked, as in tests that must not reach out)."""
        if first_check_ms is not None:
            self._timer.start(first_check_ms)

    def _say(self, text: str) -> None:
        self.said = text
        self.changed.emit()

    def _begin(self, doing: str, work: Coroutine[Any, Any, str]) -> None:
        self.busy = True
        self._say(doing)
        spawn(self._until_done(work))

    async def _until_done(self, work: Coroutine[Any, Any, str]) -> None:
        try:
            said = await work
        finally:
            self.busy = False  # cancelled too: the app is quitting, nothing more is said
        self._say(said)

    def _release_key(self) -> Any:
        """Blocking (the settings file, the keychain, the bundle's key file): for a worker thread."""
        return public_key(self._setup.settings().app.update_key or built_in_key())

    # --- checking ---------------------------------------------------------------------------

    def check(self, *, asked: bool = False) -> None:
        """Ask the feed (``asked``: the user pressed "Check now", so even when checks are off)."""
        self._timer.start(EVERY_MS)
        if not self.busy:
            self._begin("Checking for updates…", self._check(asked))

    async def _check(self, asked: bool) -> str:
        try:
            settings = await asyncio.to_thread(self._setup.settings)
            app = settings.app
            if not (app.check_updates or asked):
                return 'Checking for updates is off; "Check now" asks once.'
            async with update_client(self._transport, settings.network) as client:
                release = await check_feed(client, app.update_feed or FEED, __version__)
        except Exception as exc:
            return f"Could not check for updates: {said_of(exc)}"
        self.available = release
        if release is None:
            return f"Switchboard {__version__} is the newest release."
        if release.version not in self._told:
            self._told.add(release.version)
            self._notify(
                f"Switchboard {release.version} is available", "Open Settings to read what is new and install it."
            )
        return f"Switchboard {release.version} is available (this is {__version__})."

    # --- downloading and installing -----------------------------------------------------------

    def download_and_install(self) -> None:
        release = self.available
        if release is None or self.busy:
            return
        name = installer_name(release)
        if name is None:
            self._say(
                f"The release has no installer for this system: get it from {release.page or 'the release page'}."
            )
            return
        self._begin(f"Downloading {name} and checking its signature…", self._download_and_install(release, name))

    async def _download_and_install(self, release: Release, name: str) -> str:
        try:
            key = await asyncio.to_thread(self._release_key)
            network = (await asyncio.to_thread(self._setup.settings)).network
            async with update_client(self._transport, network) as client:
                path = await download_verified(client, release, name, self._setup.paths.data_dir / "updates", key)
        except Exception as exc:
            log.warning("update refused: %s", said_of(exc))
            return f"The update was not installed: {said_of(exc)}"
        # Installed once no request is being answered; until then, looked at again shortly.
        while count := await self._in_flight():
            self._say(f"The update is ready; it installs as soon as the {count} request(s) in flight are answered.")
            await asyncio.sleep(IDLE_POLL_S)
        self.install_now.emit(QUrl.fromLocalFile(str(path)).toString())
        return f"Installing {path.name}…"

    async def _in_flight(self) -> int:
        try:
            return int(await self._tasks.ask(lambda control: control.in_flight.count))
        except Exception:  # no gateway running: nothing in flight
            return 0
