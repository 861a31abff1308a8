"""What every page of the main window has: a title, the shared context, and two hooks — the
status as it changes, and being shown (to fetch what the status does not carry)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.gateway_host import GatewayHost
from app.platform.autostart import Autostart
from app.tasks import Tasks, Work
from app.updater import Updater
from app.viewmodels.table import Column, R, RowsModel
from gateway import Change, GatewaySetup, StatusDocument, app_only

MIN_COLUMN_CAP = 240  # pixels
ACTOR = "app"  # who the audit log says made a change from the app


@dataclass(frozen=True, slots=True)
class Context:
    host: GatewayHost
    tasks: Tasks
    copy: Callable[[str], None]  # to the clipboard
    open_url: Callable[[str], object]  # in the user's browser
    # Keys or settings changed where no running gateway applied them: the host applies them (a
    # stopped gateway is started). A change the admin door applied, the host hears of by itself.
    reconfigure: Callable[[], None]
    refresh: Callable[[], None]  # ask for a new status now
    setup: GatewaySetup  # the state folder, its settings file, and how a gateway is made from them
    autostart: Autostart  # whether it is on; ``start_at_login`` changes it (and says why it could not)
    start_at_login: Callable[[bool], None]
    updater: Updater  # the release feed: what is available, and installing it


@dataclass(frozen=True, slots=True)
class Edited:
    """What an edit of the settings did."""

    changed: bool  # False: the file already said so
    applied: bool  # in use now: the running gateway took it, or only the app reads it


class Page(QWidget):
    title = ""

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
        self.layout_ = QVBoxLayout(self)
        heading = QLabel(self.title)
        heading.setObjectName("heading")
        self.layout_.addWidget(heading)
        self.note = QLabel()  # what the last action did, or why it failed
        self.note.setObjectName("note")
        self.note.setWordWrap(True)
        self.note.hide()
        self.layout_.addWidget(self.note)
        self._starting: tuple[str, Callable[[], str]] | None = None  # a change the gateway is starting with
        context.host.started.connect(self._started)
        context.host.failed.connect(self._failed)

    def show_status(self, status: StatusDocument | None) -> None:
        """A new status of the gateway (every couple of seconds while the window is open); None
        while it is stopped."""

    def shown(self) -> None:
        """The page was brought forward."""

    def ask(self, work: Work, on_done: Callable[[Any], None], on_error: Callable[[str], None] | None = None) -> None:
        self.context.tasks.run(work, on_done, on_error or (lambda m: self.say(m, error=True)), owner=self)

    def change_config(self, changes: Sequence[Change], on_done: Callable[[Edited], None]) -> None:
        """Edit the settings file through the gateway's admin door, as the admin routes do:
        checked as a start reads it, applied to the running gateway and audited, or refused and
        said why. With the gateway stopped (its settings would not start it), the file is edited,
        checked the same way, and the gateway started from it (unless paused)."""
        error = lambda m: self.say(m, error=True)  # noqa: E731

        def done(edited: Edited) -> None:
            if edited.changed and not edited.applied:
                self.context.reconfigure()
            on_done(edited)

        if self.context.host.serving:
            edited = lambda edit: done(Edited(edit["changed"], edit["applied"]))  # noqa: E731
            self.ask(lambda control: control.change_settings(changes, ACTOR), edited, error)
        else:  # only the app reads [app]: in use at once, with no gateway to start for it
            setup = self.context.setup
            written = lambda changed: done(Edited(changed, changed and app_only(changes)))  # noqa: E731
            self.context.tasks.run_blocking(lambda: setup.change(changes), written, error, self)

    def say_done(self, done: str, applied: bool, in_use: Callable[[], str] = lambda: "in use now.") -> None:
        """``done`` (a change that went through), and whether it is in use: ``in_use()`` when
        ``applied``; when the paused gateway is resumed; or, the gateway being started with it,
        ``in_use()`` once it has started (or why it could not)."""
        host = self.context.host
        if applied:
            self.say(f"{done} {in_use()}")
        elif host.paused:
            self.say(f"{done} It applies when the gateway is resumed.")
        elif host.serving:  # a gateway that cannot apply changes live (none the app makes)
            self.say(f"{done} It applies at the gateway's next start.")
        else:
            self.say(f"{done} Starting the gateway with it…")
            self._starting = (done, in_use)

    def _started(self, _url: str) -> None:
        if self._starting is not None:
            done, in_use = self._starting
            self._starting = None
            self.say(f"{done} {in_use()}")

    def _failed(self, message: str) -> None:
        if self._starting is not None:
            done, _ = self._starting
            self._starting = None
            self.say(f"{done} The gateway could not start: {message}", error=True)

    def say(self, text: str, *, error: bool = False) -> None:
        """A line under the heading: what an action did, or why it failed."""
        self._starting = None  # a later action's line is not replaced by an earlier one's outcome
        self.note.setProperty("error", error)
        self.note.setStyleSheet("color: #c94040;" if error else "")
        self.note.setText(text)
        self.note.setVisible(bool(text))


def table(columns: Sequence[Column[R]]) -> tuple[QTableView, RowsModel[R]]:
    model: RowsModel[R] = RowsModel(columns)
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)

    def fit() -> None:  # to the contents, none wider than a third of the table; the last stretches
        if not shiboken6.isValid(view):  # the window closed since the rows came
            return
        widest = max(MIN_COLUMN_CAP, view.viewport().width() // 3)
        for column in range(model.columnCount() - 1):
            view.resizeColumnToContents(column)
            if view.columnWidth(column) > widest:
                view.setColumnWidth(column, widest)

    # Later, not now: a filter proxy in front of the model hears of the reset after this does.
    model.modelReset.connect(lambda: QTimer.singleShot(0, fit))
    return view, model
