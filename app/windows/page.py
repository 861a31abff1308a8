"""What every page of the main window has: a title, the shared context, and two hooks — the
status as it changes, and being shown (to fetch what the status does not carry)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.colours import BAD
from app.gateway_host import GatewayHost
from app.platform.autostart import Autostart
from app.tasks import Tasks, Work
from app.updater import Updater
from app.viewmodels.table import Column, R, RowsModel
from app.words import BUTTONS, Said, said_of
from gateway import Change, Fix, FixId, GatewaySetup, StatusDocument, app_only, free_port

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
    # The fixes this page makes itself (any page can choose another port or undo its own change);
    # a fix offered here that another page makes is made there (``make_fix``).
    fixes: ClassVar[frozenset[FixId]] = frozenset({"choose_port", "undo_change"})
    shows_failures = False  # says why the gateway could not start, with its fix, whatever caused it

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
        self.layout_ = QVBoxLayout(self)
        heading = QLabel(self.title)
        heading.setObjectName("heading")
        self.layout_.addWidget(heading)
        self.layout_.addLayout(self._note_row())
        self._starting: tuple[str, Callable[[], str]] | None = None  # a change the gateway is starting with
        self._undo: list[Change] = []  # what puts back the settings the last change made while stopped replaced
        self._fix: Fix | None = None  # what the fix button does
        self._showing_failure = False
        context.host.started.connect(self._started)
        context.host.failed.connect(self._failed)
        context.host.applied.connect(self._started)  # a change made during a start is applied once it has started
        context.host.refused.connect(self._refused)
        if self.shows_failures and context.host.failure is not None:
            self._failed(context.host.error)

    def _note_row(self) -> QVBoxLayout:
        """What the last action did or why it failed; its fix as a button; its technical detail
        behind "Details", selectable and copyable."""
        self.note = QLabel()
        self.note.setObjectName("note")
        self.note.setWordWrap(True)
        self.note.hide()
        self.fix_button = QPushButton()
        self.fix_button.hide()
        self.fix_button.clicked.connect(lambda: self.make_fix(self._fix) if self._fix is not None else None)
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.details_button.setFlat(True)
        self.details_button.hide()
        self.details = QLabel()
        self.details.setObjectName("details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        self.copy_details = QPushButton("Copy")
        self.copy_details.hide()
        self.copy_details.clicked.connect(lambda: self.context.copy(self.details.text()))
        self.details_button.toggled.connect(self.details.setVisible)
        self.details_button.toggled.connect(self.copy_details.setVisible)
        said = QHBoxLayout()
        said.addWidget(self.note, 1)
        said.addWidget(self.fix_button)
        said.addWidget(self.details_button)
        detail = QHBoxLayout()
        detail.addWidget(self.details, 1)
        detail.addWidget(self.copy_details, 0, Qt.AlignmentFlag.AlignTop)
        rows = QVBoxLayout()
        rows.setSpacing(2)
        rows.addLayout(said)
        rows.addLayout(detail)
        return rows

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
            self._undo = []  # the admin door puts back what the gateway could not take
            edited = lambda edit: done(Edited(edit["changed"], edit["applied"]))  # noqa: E731
            self.ask(lambda control: control.change_settings(changes, ACTOR), edited, error)
        else:  # only the app reads [app]: in use at once, with no gateway to start for it
            setup = self.context.setup

            def write() -> tuple[bool, list[Change]]:
                undo = undoing(setup.config(), changes)  # what the file said: "Undo that change" if it breaks
                return setup.change(changes), undo

            def written(result: tuple[bool, list[Change]]) -> None:
                changed, self._undo = result
                done(Edited(changed, changed and app_only(changes)))

            self.context.tasks.run_blocking(write, written, error, self)

    def say_done(self, done: str, applied: bool, in_use: Callable[[], str] = lambda: "in use now.") -> None:
        """``done`` (a change that went through), and whether it is in use: ``in_use()`` when
        ``applied``; when the paused gateway is resumed; or, the gateway being started (or, started
        meanwhile, reconfigured) with it, ``in_use()`` once it serves with it (or why it could not)."""
        host = self.context.host
        if applied:
            self.say(f"{done} {in_use()}")
        elif host.paused:
            self.say(f"{done} It applies when the gateway is resumed.")
        elif host.serving:  # it started while the change was written: the host is applying it to it
            self.say(f"{done} Applying it…")
            self._starting = (done, in_use)
        else:
            self.say(f"{done} Starting the gateway with it…")
            self._starting = (done, in_use)

    def _started(self, _url: str) -> None:
        if self._starting is not None:
            done, in_use = self._starting
            self._starting = None
            self.say(f"{done} {in_use()}")
        elif self._showing_failure:
            self.say("")

    def _failed(self, message: str) -> None:
        """The gateway could not start, or (``refused``) could not apply new settings."""
        failure = self.context.host.failure  # a start's, as raised (a refusal has none)
        start = failure is not None and message == self.context.host.error
        said = said_of(failure) if failure is not None and start else Said(message)
        if self._starting is not None:
            done, _ = self._starting
            self._starting = None
            # The change just made is why, as far as anyone can tell: the fix is to put it back.
            fix = Fix("undo_change") if self._undo and start else said.fix
            what = "The gateway could not start" if start else "It could not be applied"
            self.say(Said(f"{done} {what}: {said}", fix, said.detail), error=True)
        elif self.shows_failures and start:
            self.say(said.prefixed("The gateway could not start: "), error=True)
            self._showing_failure = True

    def _refused(self, message: str) -> None:
        if self._starting is not None:
            done, _ = self._starting
            self._starting = None
            said = message if isinstance(message, Said) else Said(message)  # the host's carries its fix
            self.say(said.prefixed(f"{done} It could not be applied: "), error=True)

    def say(self, text: str, *, error: bool = False) -> None:
        """A line under the heading: what an action did, or why it failed; with the fix as a
        button and the technical detail behind "Details" when ``text`` carries them (``Said``)."""
        self._starting = None  # a later action's line is not replaced by an earlier one's outcome
        self._showing_failure = False
        self.note.setProperty("error", error)
        self.note.setStyleSheet(f"color: {BAD};" if error else "")
        self.note.setText(text)
        self.note.setVisible(bool(text))
        fix = text.fix if isinstance(text, Said) else None
        self._fix = fix if fix is not None and self._can_make(fix.id) else None
        self.fix_button.setText(BUTTONS[self._fix.id] if self._fix is not None else "")
        self.fix_button.setVisible(self._fix is not None)
        detail = text.detail if isinstance(text, Said) else ""
        self.details.setText(detail)
        self.details_button.setChecked(False)
        self.details_button.setVisible(bool(detail))

    # --- fixes ------------------------------------------------------------------------------------

    def make_fix(self, fix: Fix) -> None:
        """Do what the fix button offered; a page that makes more fixes extends this."""
        if fix.id not in self.fixes:
            maker = next((page for page in self.pages().values() if fix.id in page.fixes), None)
            if maker is not None:
                self.go_to(maker.title)
                maker.make_fix(fix)
        elif fix.id == "choose_port":
            self.use_another_port()
        elif fix.id == "undo_change" and self._undo:
            undo, self._undo = self._undo, []
            self.change_config(undo, lambda edited: self.say_done("The previous settings are back.", edited.applied))

    def _can_make(self, fix: FixId) -> bool:
        """Whether the fix has a button and a page of this window (or this one) that makes it."""
        return fix in BUTTONS and (fix in self.fixes or any(fix in page.fixes for page in self.pages().values()))

    def pages(self) -> dict[str, Page]:
        """Every page of the window this one is in, by title (none outside one)."""
        pages: dict[str, Page] = getattr(self.window(), "pages", {})
        return pages

    def go_to(self, title: str) -> None:
        """Bring the window's page ``title`` forward (the main window's ``go``)."""
        go = getattr(self.window(), "go", None)
        if callable(go):
            go(title)

    def use_another_port(self) -> None:
        """A port free now, near the one that was taken, saved and listened on (where the port was
        chosen at launch, for this run only)."""
        setup, host = self.context.setup, self.context.host
        self.fix_button.setEnabled(False)

        def choose() -> int:
            server = setup.settings().server
            return free_port(server.host, server.port)

        def chosen(port: int) -> None:
            self.fix_button.setEnabled(True)

            def listening() -> str:
                return f"Switchboard listens on port {port}; tools set up with the old port need the new one."

            if setup.port is not None and not host.serving:  # chosen at launch: this run only
                setup.port = port
                self.say_done(f"Port {port} is free.", False, listening)
                self.context.reconfigure()
            else:
                self.change_config(
                    [("server", "port", port)],
                    lambda edited: self.say_done(f"Port {port} is free.", edited.applied, listening),
                )

        def failed(message: str) -> None:
            self.fix_button.setEnabled(True)
            self.say(message, error=True)

        self.context.tasks.run_blocking(choose, chosen, failed, self)


def undoing(config: dict[str, Any], changes: Sequence[Change]) -> list[Change]:
    """The changes that put back what ``config`` (the file as written) says for each key ``changes``
    touch: its old value, or None (removed) where it had none."""
    undo: list[Change] = []
    for section, key, _ in changes:
        table: Any = config
        for part in section.split("."):
            table = table.get(part, {}) if isinstance(table, dict) else {}
        undo.append((section, key, table.get(key) if isinstance(table, dict) else None))
    return undo


def bring_into_view(widget: QWidget) -> None:
    """Scroll the page ``widget`` is on to it and give it the focus, once the page is laid out (a
    fix button that opens another page at the place that makes the fix)."""

    def scroll() -> None:
        if not shiboken6.isValid(widget):
            return
        parent = widget.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if parent is not None:
            parent.ensureWidgetVisible(widget)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)

    QTimer.singleShot(0, scroll)


def fit_rows(view: QAbstractItemView, rows: int) -> None:
    """As tall as ``rows`` rows (and a table's header), hidden with none: a list of three is not a
    box the height of the page."""
    view.setVisible(rows > 0)
    if rows:
        view.setFixedHeight(rows_height(view, rows))


def rows_height(view: QAbstractItemView, rows: int) -> int:
    """The height that shows ``rows`` rows (and a table's header) with no room under them."""
    row = view.sizeHintForRow(0) if view.model() is not None and view.model().rowCount() else 0
    header = view.horizontalHeader().sizeHint().height() if isinstance(view, QTableView) else 0
    return header + rows * max(row, view.fontMetrics().height() + 8) + 2 * view.frameWidth() + 2


def table(columns: Sequence[Column[R]], stretch: int | None = None) -> tuple[QTableView, RowsModel[R]]:
    """``stretch``: the column that takes the room left (a name, not a count pushed to the far
    right); the last when None."""
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
    header.setStretchLastSection(stretch is None)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)

    def fit() -> None:  # to the contents, none wider than a third of the table; the last stretches
        if not shiboken6.isValid(view):  # the window closed since the rows came
            return
        widest = max(MIN_COLUMN_CAP, view.viewport().width() // 3)
        for column in range(model.columnCount() - (stretch is None)):
            if column == stretch:
                continue
            view.resizeColumnToContents(column)
            if view.columnWidth(column) > widest:
                view.setColumnWidth(column, widest)

    # Later, not now: a filter proxy in front of the model hears of the reset after this does.
    model.modelReset.connect(lambda: QTimer.singleShot(0, fit))
    return view, model
