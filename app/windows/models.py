"""Models: every model the gateway serves, with what it can do, what it costs and whether it answers
now; a search; "Copy id" (what a tool is told to ask for); and Try it, a small chat that sends one
message through the gateway's own address exactly as a tool would, so an answer proves the whole
way (the route that answered and the tokens it took are shown under it)."""

from __future__ import annotations

import asyncio

import shiboken6
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.colours import BAD
from app.tasks import spawn
from app.try_chat import TryFailed, try_through
from app.viewmodels.models import (
    can_words,
    chat_models,
    context_words,
    found,
    price_words,
    provider_words,
    state_words,
    tried_words,
)
from app.viewmodels.table import Column, field
from app.windows.page import Context, Page, rows_height, table
from gateway import ModelRow

PROMPT = "Say hello in one short sentence."


class _AnswerBox(QPlainTextEdit):
    """Asks for three lines, not Qt's usual dozen: the page's height on a small screen is counted
    from what its parts ask for, and the splitter gives it more wherever there is room."""

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self.fontMetrics().lineSpacing() * 3 + 2 * self.frameWidth() + 8)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()


class ModelsPage(Page):
    title = "Models"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.rows: list[ModelRow] = []
        self.trying: asyncio.Task[None] | None = None
        self._restoring = False
        intro = QLabel(
            "Every model you can use through Switchboard. Tell a tool the id in the first column, "
            "or try a model here first."
        )
        intro.setWordWrap(True)
        self.layout_.addWidget(intro)
        bar = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search models, providers, images, tools, free…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _: self._show_rows())
        self.copy_button = QPushButton("Copy id")
        self.copy_button.clicked.connect(lambda: self.copy_id())
        self.count = QLabel()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.count)
        self.layout_.addLayout(bar)
        columns: list[Column[ModelRow]] = [
            field("Model id", "id"),
            Column("Provider", provider_words),
            Column("Context", lambda r: context_words(r["context"]), numeric=True),
            Column("Can take", can_words),
            Column("Price per 1M tokens", price_words),
            Column("State", state_words),
        ]
        self.view, self.model = table(columns, stretch=0)  # the id takes the room left: no scrolling sideways
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._pick_selected())
        self.view.doubleClicked.connect(lambda _: self.copy_id())
        self.least = self.fontMetrics().lineSpacing() * 6  # on a small screen the page fits, the table scrolls
        self.view.setMinimumHeight(self.least)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.view)
        split.addWidget(self._try_panel())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.layout_.addWidget(split, 1)

    def _try_panel(self) -> QWidget:
        panel = QGroupBox("Try it")
        column = QVBoxLayout(panel)
        ask = QHBoxLayout()
        self.picker = QComboBox()
        self.picker.setMinimumContentsLength(24)
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setAccessibleName("Model to try")
        self.prompt = QLineEdit(PROMPT)
        self.prompt.setAccessibleName("Message")
        self.prompt.returnPressed.connect(lambda: self.send())
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(lambda: self.send())
        ask.addWidget(self.picker)
        ask.addWidget(self.prompt, 1)
        ask.addWidget(self.send_button)
        column.addLayout(ask)
        self.answer = _AnswerBox()
        self.answer.setReadOnly(True)
        self.answer.setPlaceholderText("The answer appears here as the model writes it.")
        column.addWidget(self.answer, 1)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.result)
        return panel

    # --- the list -------------------------------------------------------------------------------

    def shown(self) -> None:
        self.ask(lambda control: control.models(), self._rows)

    def _rows(self, rows: list[ModelRow]) -> None:
        chosen = self.picker.currentText()
        self.rows = rows
        self._show_rows()
        self.picker.clear()
        self.picker.addItems(chat_models(rows))
        if chosen:
            self.picker.setCurrentText(chosen)

    def _show_rows(self) -> None:
        chosen = self.selected()
        shown = found(self.rows, self.search.text())
        self.model.set_rows(shown)
        # No taller than its rows: the room under a short list goes to Try it's answer, not to an empty box.
        fitted = rows_height(self.view, max(1, len(shown)))
        self.view.setMinimumHeight(min(self.least, fitted))
        self.view.setMaximumHeight(fitted)
        self.count.setText(f"{len(shown)} of {len(self.rows)}" if len(shown) != len(self.rows) else "")
        if chosen is not None and chosen in shown:
            self._restoring = True  # the row chosen before, chosen again: not a new choice of model to try
            self.view.selectRow(shown.index(chosen))
            self._restoring = False

    def selected(self) -> ModelRow | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _pick_selected(self) -> None:
        if self._restoring:
            return
        row = self.selected()
        if row is not None and self.picker.findText(row["id"]) >= 0:
            self.picker.setCurrentText(row["id"])

    def copy_id(self) -> None:
        row = self.selected()
        if row is None:
            self.say("Choose a model in the list first.", error=True)
            return
        self.context.copy(row["id"])
        self.say(f"Copied “{row['id']}”: give it to a tool as the model name.")

    # --- Try it -------------------------------------------------------------------------------

    def send(self) -> None:
        model, prompt = self.picker.currentText(), self.prompt.text().strip() or PROMPT
        if not model:
            self._tried("There is no model to try yet: add a provider or start a local model server.", error=True)
            return
        if self.trying is not None:
            self.trying.cancel()
        self.answer.clear()
        self._tried(f"Sending to {model}…")
        self.send_button.setEnabled(False)
        # Owned by the page: a page that is closed takes its test message with it.
        self.trying = spawn(self._try(model, prompt), owner=self)

    async def _try(self, model: str, prompt: str) -> None:
        try:
            tried = await try_through(self.context.tasks, self.context.host.url, model, prompt, self._piece)
        except TryFailed as failed:
            if shiboken6.isValid(self):
                self._tried(failed.message, error=True)
        else:
            if shiboken6.isValid(self):
                self._tried(tried_words(tried))
                self.shown()  # a model that answered, or failed, may have changed state
        finally:
            if shiboken6.isValid(self) and self.trying is asyncio.current_task():  # not one Send replaced
                self.send_button.setEnabled(True)
                self.trying = None

    def _piece(self, text: str) -> None:
        if shiboken6.isValid(self.answer):
            self.answer.moveCursor(QTextCursor.MoveOperation.End)
            self.answer.insertPlainText(text)

    def _tried(self, text: str, *, error: bool = False) -> None:
        self.result.setStyleSheet(f"color: {BAD};" if error else "")
        self.result.setText(text)
