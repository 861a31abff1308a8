"""The app's update check: the release feed asked a minute after start and then daily (unless
Settings switch it off), "update available" with the release notes, the installer downloaded and
proven ours (app/updates.py), and installed only once no request is in flight: the installer is
opened and the app quits so it can replace the files.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal

from app.tasks import Tasks
from app.updates import (
    FEED,
    Release,
    download_verified,
    installer_name,
    newer_release,
    public_key,
    urllib_fetch,
)
from gateway import GatewaySetup, __version__

log = logging.getLogger("app.updates")

FIRST_CHECK_MS = 60_000
EVERY_MS = 24 * 3600 * 1000
IDLE_POLL_MS = 2_000
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
        fetch: Callable[[str, int], bytes] = urllib_fetch,
    ) -> None:
        super().__init__()
        self._tasks = tasks
        self._setup = setup
        self._notify = notify
        self._fetch = fetch
        self.available: Release | None = None
        self.installer: Path | None = None
        self.said = ""  # the last thing to tell the user
        self.busy = False
        self._told: set[str] = set()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._idle = QTimer(self)
        self._idle.setInterval(IDLE_POLL_MS)
        self._idle.timeout.connect(self._install_when_idle)

    def start(self, first_check_ms: int | None = FIRST_CHECK_MS) -> None:
        """Schedule the daily check (``None``: only when asked, as in tests that must not reach out)."""
        if first_check_ms is not None:
            self._timer.start(first_check_ms)

    def _say(self, text: str) -> None:
        self.said = text
        self.changed.emit()

    # --- checking ---------------------------------------------------------------------------

    def check(self, *, asked: bool = False) -> None:
        """Ask the feed (``asked``: the user pressed "Check now", so even when checks are off)."""
        self._timer.start(EVERY_MS)

        def ask() -> tuple[bool, Release | None]:
            app = self._setup.settings().app
            if not (app.check_updates or asked):
                return False, None
            return True, newer_release(app.update_feed or FEED, __version__, self._fetch)

        self.busy = True
        self._say("Checking for updates…")
        self._tasks.run_blocking(ask, self._checked, self._failed)

    def _checked(self, found: tuple[bool, Release | None]) -> None:
        self.busy = False
        asked, release = found
        if not asked:
            self._say('Checking for updates is off; "Check now" asks once.')
            return
        self.available = release
        if release is None:
            self._say(f"Switchboard {__version__} is the newest release.")
            return
        self._say(f"Switchboard {release.version} is available (this is {__version__}).")
        if release.version not in self._told:
            self._told.add(release.version)
            self._notify(
                f"Switchboard {release.version} is available", "Open Settings to read what is new and install it."
            )

    def _failed(self, message: str) -> None:
        self.busy = False
        self._say(f"Could not check for updates: {message}")

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
        folder = self._setup.paths.data_dir / "updates"

        def fetch() -> Path:
            app = self._setup.settings().app
            return download_verified(release, name, folder, public_key(app.update_key or built_in_key()), self._fetch)

        self.busy = True
        self._say(f"Downloading {name} and checking its signature…")
        self._tasks.run_blocking(fetch, self._downloaded, self._refused)

    def _downloaded(self, path: Path) -> None:
        self.busy = False
        self.installer = path
        self._install_when_idle()

    def _refused(self, message: str) -> None:
        self.busy = False
        self._say(f"The update was not installed: {message}")
        log.warning("update refused: %s", message)

    def _install_when_idle(self) -> None:
        """Open the installer once no request is being answered; until then, look again shortly."""
        if self.installer is None:
            return
        self._tasks.run(lambda control: control.in_flight.count, self._in_flight, lambda _: self._in_flight(0))

    def _in_flight(self, count: Any) -> None:
        if self.installer is None:
            return
        if count:
            self._say(f"The update is ready; it installs as soon as the {count} request(s) in flight are answered.")
            self._idle.start()
            return
        self._idle.stop()
        path, self.installer = self.installer, None
        self._say(f"Installing {path.name}…")
        self.install_now.emit(QUrl.fromLocalFile(str(path)).toString())
