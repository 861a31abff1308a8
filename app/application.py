"""The application object: it owns the gateway host, the tray, the window and the notifications,
and is where their signals meet (Vorta's application, without a global)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QSystemTrayIcon

from app.first_run import TRAY_NOTICE, WELCOMED, FirstRun
from app.gateway_host import GatewayHost
from app.platform.autostart import Autostart
from app.tasks import Tasks, spawn
from app.tray import Tray, TrayActions, TrayState
from app.updater import FIRST_CHECK_MS, Updater
from app.viewmodels.alerts import Alerts, Notice
from app.viewmodels.health import Health, health_of
from app.windows.accounts import AccountsPage
from app.windows.audit import AuditPage
from app.windows.connect import ConnectPage
from app.windows.local_models import LocalModelsPage
from app.windows.main_window import MainWindow
from app.windows.models import ModelsPage
from app.windows.overview import OverviewPage
from app.windows.page import Context, Page
from app.windows.providers import ProvidersPage
from app.windows.quotas import QuotasPage
from app.windows.rules import RulesPage
from app.windows.settings import SettingsPage
from app.windows.usage import UsagePage
from app.windows.welcome import WelcomeWindow
from gateway import Control, GatewaySetup, StatusDocument

log = logging.getLogger("app")

PAGES: list[type[Page]] = [
    OverviewPage,
    ProvidersPage,
    ModelsPage,
    RulesPage,
    LocalModelsPage,
    AccountsPage,
    QuotasPage,
    UsagePage,
    AuditPage,
    ConnectPage,
    SettingsPage,
]
SHOWN_EVERY_MS = 2_000  # status refresh while the window is open
HIDDEN_EVERY_MS = 15_000  # while only the tray shows it: tooltip, icon, notifications
COULD_NOT_START = "Switchboard could not start"
NO_TRAY = "This desktop has no system tray, so Switchboard shows this window instead; closing it quits."
RUNNING_HERE = Notice(
    "Switchboard is running here",
    "It goes on serving your tools from this icon. Click it to open the window again; quit from its menu.",
)


def start_of_today(now: float) -> float:
    local = time.localtime(now)
    return time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 0, 0, 0, 0, 0, -1))


async def snapshot(control: Control, since: float) -> StatusDocument:
    """The status, plus today's requests and tokens and the busiest models (with a database)."""
    status = control.status()
    if control.state is not None:
        rows = await control.usage_by("by-model", since)
        status["today"] = {
            "requests": sum(r["requests"] for r in rows),
            "tokens": sum(r["total_tokens"] for r in rows),
            "models": rows[:8],
        }
    return status


class Application(QObject):
    quit_requested = Signal()

    def __init__(
        self,
        host: GatewayHost,
        autostart: Autostart,
        setup: GatewaySetup,
        *,
        tray_available: bool | None = None,
        open_url: Callable[[str], object] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        update_check_ms: int | None = FIRST_CHECK_MS,
    ) -> None:
        """``open_url``: the browser (and the installer of an update); ``transport``: how httpx
        reaches the release feed (the network by default); ``update_check_ms``: when the first
        update check runs (``None``: only when asked)."""
        super().__init__()
        self.host = host
        self.autostart = autostart
        self.tasks = Tasks(host, self)
        self.status: StatusDocument | None = None
        self.alerts = Alerts()
        self.notified: list[Notice] = []  # every notification shown, newest last
        self._open_url: Callable[[str], object] = open_url or (lambda url: QDesktopServices.openUrl(QUrl(url)))
        self.updater = Updater(
            self.tasks,
            setup,
            lambda title, text: self.notify(Notice(title, text)),
            transport,
        )
        self.updater.install_now.connect(self._install)
        self._update_check_ms = update_check_ms
        context = Context(
            host,
            self.tasks,
            self.copy,
            self._open_url,
            self.reconfigure,
            self.refresh,
            setup,
            autostart,
            self.set_start_at_login,
            self.updater,
        )
        has_tray = QSystemTrayIcon.isSystemTrayAvailable() if tray_available is None else tray_available
        self._standing_notice = "" if has_tray else NO_TRAY  # what the window's banner says between notices
        self.window = MainWindow(context, PAGES, self._standing_notice)
        self.window.hide_on_close = has_tray
        self.window.quit_requested.connect(self.quit_requested)
        self.window.visibility_changed.connect(lambda _: self._pace())
        self.window.visibility_changed.connect(self._window_shown)
        self.first_run = FirstRun(lambda: setup.paths.data_dir)
        self.welcome = WelcomeWindow(host, self.tasks, self.show_page)
        self.welcome.done.connect(lambda: spawn(self.first_run.mark(WELCOMED)))
        self.welcome.closed.connect(self._welcome_closed)
        actions = TrayActions(
            open_window=self.open_window,
            copy_address=lambda: self.copy(self.host.url),
            connect_tool=self.connect_tool,
            pause=self.pause,
            start_at_login=self.set_start_at_login,
            quit=self.quit_requested.emit,
            update=self.show_update,
            welcome=self.welcome.open,
        )
        self.tray = Tray(actions, self.tray_state)
        self.updater.changed.connect(self.tray.refresh)
        self.has_tray = has_tray
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        host.started.connect(self._started)
        host.failed.connect(self._failed)
        host.stopped.connect(self._changed)
        host.applied.connect(self._started)  # as after a start: the views show what serves now
        host.refused.connect(self._refused)
        self.tasks.failed.connect(lambda message: log.warning("%s", message))

    def start(self) -> None:
        if self.has_tray:
            self.tray.show()
        else:
            self.window.show()
        if not self.first_run.seen(WELCOMED):
            self.welcome.open()
        self.host.start()
        self._pace()
        self.updater.start(self._update_check_ms)

    def close(self) -> None:
        """Before quitting: nothing more is asked, the icon goes, and the gateway stops (requests
        in flight finish first, within the grace period)."""
        self.timer.stop()
        self.tray.hide()
        self.window.hide()
        self.welcome.hide()
        self.host.shutdown()

    # --- state ------------------------------------------------------------------------------

    def health(self) -> Health:
        host = self.host
        return health_of(self.status, running=host.serving, paused=host.paused, error=host.error)

    def tray_state(self) -> TrayState:
        today = self.status.get("today") if self.status is not None else None
        available = self.updater.available
        return TrayState(
            self.health(),
            self.host.url if self.host.serving else "",
            today["tokens"] if today else None,
            self.autostart.enabled(),
            available.version if available is not None else None,
        )

    def refresh(self) -> None:
        if not self.host.serving:
            self._changed()
            return
        since = start_of_today(time.time())
        self.tasks.run(lambda control: snapshot(control, since), self._status, lambda m: log.debug("no status: %s", m))

    def _status(self, status: StatusDocument) -> None:
        self.status = status
        self.window.show_status(status)
        self.tray.refresh()
        for notice in self.alerts.notices(status):
            self.notify(notice)

    def _started(self, url: str) -> None:
        if self.window.notice.text().startswith(COULD_NOT_START):  # it serves now: the banner says so no more
            self.window.notice.setText(self._standing_notice)
            self.window.notice.setVisible(bool(self._standing_notice))
        self.refresh()
        if self.window.isVisible():
            self.window.current.shown()

    def _failed(self, message: str) -> None:
        self.status = None
        self._changed()
        self.notify(Notice(COULD_NOT_START, message, urgent=True))
        self.open_window()

    def _refused(self, message: str) -> None:
        self.notify(Notice("Switchboard kept its settings", f"The change could not be applied: {message}", urgent=True))

    def _changed(self) -> None:
        if not self.host.serving:
            self.status = None
        self.tray.refresh()
        self.window.pages[OverviewPage.title].show_status(self.status)

    def _pace(self) -> None:
        self.timer.start(SHOWN_EVERY_MS if self.window.isVisible() else HIDDEN_EVERY_MS)

    def tray_messages(self) -> bool:
        """Whether notices show beside the tray icon (else on the window's banner)."""
        return self.has_tray and QSystemTrayIcon.supportsMessages()

    def notify(self, notice: Notice) -> None:
        self.notified.append(notice)
        icon = QSystemTrayIcon.MessageIcon.Warning if notice.urgent else QSystemTrayIcon.MessageIcon.Information
        if self.tray_messages():
            self.tray.showMessage(notice.title, notice.text, icon, 10_000)
        else:
            self.window.notice.setText(f"{notice.title}: {notice.text}")
            self.window.notice.show()

    # --- what the tray and the pages ask for ----------------------------------------------

    def copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)

    def open_window(self) -> None:
        self.window.bring_forward()

    def show_page(self, title: str) -> None:
        self.window.go(title)
        self.open_window()

    def _welcome_closed(self) -> None:
        """Finished or skipped: not shown at the next start (the tray's "Welcome…" opens it again)."""
        spawn(self.first_run.mark(WELCOMED))
        self._closed_to_tray()

    def _window_shown(self, shown: bool) -> None:
        if not shown:
            self._closed_to_tray()

    def _closed_to_tray(self) -> None:
        """The first time a window is closed while the tray icon stays: say where Switchboard went."""
        if self.has_tray and not self.first_run.seen(TRAY_NOTICE) and not self.window.isVisible():
            self.notify(RUNNING_HERE)
            spawn(self.first_run.mark(TRAY_NOTICE))

    def connect_tool(self, tool: str) -> None:
        page = self.window.go(ConnectPage.title)
        assert isinstance(page, ConnectPage)
        page.choose(tool)
        self.open_window()

    def show_update(self) -> None:
        """The Settings page, where the available release's notes and its install button are."""
        self.window.go(SettingsPage.title)
        self.open_window()

    def _install(self, installer_url: str) -> None:
        """The verified installer, opened by the system; the app quits so it can replace the files."""
        self._open_url(installer_url)
        self.quit_requested.emit()

    def pause(self, paused: bool) -> None:
        self.host.pause(paused)
        self.tray.refresh()

    def reconfigure(self) -> None:
        """Keys or settings changed: the running gateway applies them live (``GatewayHost``), and
        what it did is shown (the views refresh, or a notice says why nothing changed)."""
        self.host.reconfigure()

    def set_start_at_login(self, on: bool) -> None:
        try:
            self.autostart.enable() if on else self.autostart.disable()
        except OSError as exc:
            self.notify(
                Notice("Switchboard: start at login", f"Could not change {self.autostart.where}: {exc}", urgent=True)
            )
