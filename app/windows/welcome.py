"""The welcome window of the first start (and the tray's "Welcome…"): what Switchboard does, what
this computer has already with one click to use each, where to add a provider or connect a tool,
and a test message — the welcome is done when a model answers it. It can be skipped, and it scrolls
rather than grow past a small screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.gateway_host import GatewayHost, NotServing
from app.icons import icon
from app.tasks import Tasks, spawn
from app.theme import BAD, GOOD, SPACE_L
from app.try_chat import Tried, TryFailed, try_through
from app.viewmodels.health import SERVING
from app.viewmodels.welcome import (
    NO_MODEL,
    NOTHING_FOUND,
    PROMPT,
    TITLE,
    WHAT_IT_DOES,
    Offer,
    answered,
    model_to_try,
    offers,
)
from app.windows.connect import ConnectPage
from app.windows.providers import ProvidersPage
from app.words import said_of
from gateway import Control, Found, GatewayError, StatusDocument

ACTOR = "app"
SIZE = QSize(760, 600)  # fits 1024×640 with its frame; it scrolls below that


def _label(text: str = "", name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
    return label


def _show(label: QLabel, text: str, colour: str = "") -> None:
    label.setStyleSheet(f"color: {colour};" if colour else "")
    label.setText(text)
    label.setVisible(bool(text))


class WelcomeWindow(QWidget):
    """``go(title)``: the main window, at that page. ``done``: a model answered the test message;
    ``closed``: the window was closed (finished or skipped)."""

    done = Signal()
    closed = Signal()

    def __init__(self, host: GatewayHost, tasks: Tasks, go: Callable[[str], None]) -> None:
        super().__init__()
        self._host = host
        self._tasks = tasks
        self.setWindowTitle(TITLE)
        self.setWindowIcon(icon(SERVING))
        self.resize(SIZE)
        self.setMinimumSize(QSize(420, 320))
        self.offers: list[Offer] = []
        self.buttons: dict[tuple[str, str], QPushButton] = {}

        outer = QVBoxLayout(self)
        self.scroller = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        layout = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        layout.addWidget(_label(TITLE, "heading"))
        layout.addWidget(_label(WHAT_IT_DOES))

        layout.addSpacing(SPACE_L)
        layout.addWidget(_label("Found on this computer", "big"))
        self.found = QVBoxLayout()
        layout.addLayout(self.found)
        self.looking = _label("Looking…", "muted")
        layout.addWidget(self.looking)
        more = QHBoxLayout()
        self.look_button = QPushButton("Look again")
        self.look_button.clicked.connect(lambda: self.look())
        add = QPushButton("Add a provider")
        add.clicked.connect(lambda: go(ProvidersPage.title))
        connect = QPushButton("Connect a tool")
        connect.clicked.connect(lambda: go(ConnectPage.title))
        for button in (self.look_button, add, connect):
            more.addWidget(button)
        more.addStretch(1)
        layout.addLayout(more)
        self.note = _label(name="note")  # what a click above did, or why it could not
        self.note.hide()
        layout.addWidget(self.note)

        layout.addSpacing(SPACE_L)
        layout.addWidget(_label("Try it", "big"))
        layout.addWidget(_label("Send one message through Switchboard, as a tool would, to see that it all works."))
        self.try_button = QPushButton("Send a test message")
        self.try_button.clicked.connect(lambda: self.send_test())
        self.result = _label()  # how the test message went, beside its button
        row = QHBoxLayout()
        row.addWidget(self.try_button)
        row.addWidget(self.result, 1)
        layout.addLayout(row)
        self.answer_card = QFrame()
        self.answer_card.setObjectName("card")
        self.answer = _label()
        QVBoxLayout(self.answer_card).addWidget(self.answer)
        self.answer_card.hide()
        layout.addWidget(self.answer_card)
        layout.addStretch(1)

        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.finish_button = QPushButton("Skip")
        self.finish_button.clicked.connect(lambda: self.close())
        bottom.addWidget(self.finish_button)
        outer.addLayout(bottom)
        host.started.connect(lambda _url: self._serving())

    # --- what was found --------------------------------------------------------------------

    def _serving(self) -> None:
        if self.isVisible():
            self.look()

    def look(self) -> None:
        """Ask the gateway what this computer has (its local servers asked again now)."""
        if not self._host.serving:
            self.looking.setText("Waiting for the gateway to start…")
            self.looking.show()
            return
        self.looking.setText("Looking…")
        self.looking.show()
        self.look_button.setEnabled(False)

        async def found_and_status(control: Control) -> tuple[list[Found], StatusDocument]:
            return await control.discover(), control.status()

        self._tasks.run(found_and_status, self._found, self._failed, owner=self)

    def _found(self, found_and_status: tuple[list[Found], StatusDocument]) -> None:
        self.look_button.setEnabled(True)
        self.offers = offers(*found_and_status)  # states as the Providers page says them
        while self.found.count():
            item = self.found.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        self.buttons = {}
        for shown in self.offers:
            self.found.addWidget(self._card(shown))
        self.looking.setText(NOTHING_FOUND)
        self.looking.setVisible(not self.offers)

    def _card(self, shown: Offer) -> QFrame:
        card = QFrame()
        card.setObjectName("card")
        row = QHBoxLayout(card)
        words = QVBoxLayout()
        name = _label(shown.name)
        name.setStyleSheet("font-weight: 600;")
        words.addWidget(name)
        words.addWidget(_label(shown.detail, "muted"))
        state = _label(f"✓ {shown.state}" if shown.colour == GOOD else shown.state)
        state.setStyleSheet(f"color: {shown.colour};" if shown.colour else "")
        words.addWidget(state)
        row.addLayout(words, 1)
        if shown.button is not None:
            button = QPushButton(shown.button)
            button.clicked.connect(lambda: self.use(shown))
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
            self.buttons[(shown.kind, shown.id)] = button
        return card

    def use(self, shown: Offer) -> None:
        """The one click: import the login, or keep the environment's key; then look again."""
        button = self.buttons.get((shown.kind, shown.id))
        if button is not None:
            button.setEnabled(False)
        if shown.kind == "codex":
            self._tasks.run(lambda control: control.import_codex(ACTOR), lambda _: self.look(), self._failed, self)
        elif shown.kind == "copilot":
            self._tasks.run(lambda control: control.import_copilot(ACTOR), lambda _: self.look(), self._failed, self)
        elif shown.kind == "key":
            work = lambda control: control.keep_env_keys(shown.id, ACTOR)  # noqa: E731
            self._tasks.run(work, lambda _: self._kept(shown), self._failed, self)

    def _kept(self, shown: Offer) -> None:
        _show(self.note, f"The key for {shown.name} is kept now: Switchboard has it whenever it starts.")
        self.look()

    def _failed(self, message: str) -> None:
        self.look_button.setEnabled(True)
        for button in self.buttons.values():
            button.setEnabled(True)
        _show(self.note, message, BAD)

    def say(self, text: str, colour: str = "") -> None:
        """How the test message goes."""
        _show(self.result, text, colour)

    # --- the test message ------------------------------------------------------------------

    def send_test(self) -> None:
        self.try_button.setEnabled(False)
        self.answer.clear()
        self.answer_card.hide()
        self.say("Sending…")
        spawn(self._send(), owner=self)

    async def _send(self) -> None:
        try:
            model = model_to_try(await self._tasks.ask(lambda control: control.models()))
            if model is None:
                self.say(NO_MODEL, BAD)
                return
            self.say(f"Asking {model}…")
            tried = await try_through(self._tasks, self._host.url, model, PROMPT, self._piece)
        except TryFailed as exc:
            self.say(exc.message, BAD)
        except (NotServing, GatewayError) as exc:  # the gateway stopped meanwhile, or refused the listing
            self.say(said_of(exc), BAD)
        else:
            self._answered(tried)
        finally:
            self.try_button.setEnabled(True)

    def _piece(self, text: str) -> None:
        self.answer.setText(self.answer.text() + text)
        self.answer_card.show()

    def _answered(self, tried: Tried) -> None:
        self.say(answered(tried), GOOD)
        self.scroller.ensureWidgetVisible(self.answer_card)
        self.finish_button.setText("Finish")
        self.done.emit()

    # --- the window ------------------------------------------------------------------------

    def open(self) -> None:
        _show(self.note, "")
        self.scroller.verticalScrollBar().setValue(0)
        self.show()
        self.raise_()
        self.activateWindow()
        self.look()

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.closed.emit()
