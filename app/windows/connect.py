"""Connect a tool: the settings each IDE, CLI and SDK needs, with the live address (and a client
key's placeholder where the gateway asks callers for one), ready to copy."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from app.viewmodels.snippets import DEFAULT_URL, KEY_PLACEHOLDER, Snippet, snippets
from app.windows.page import Context, Page
from gateway import StatusDocument


class ConnectPage(Page):
    title = "Connect a tool"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self._keys_needed = False
        self._snippets: list[Snippet] = []
        body = QHBoxLayout()
        self.tools = QListWidget()
        self.tools.setMaximumWidth(220)
        self.tools.currentRowChanged.connect(self._show)
        body.addWidget(self.tools)
        right = QVBoxLayout()
        self.where = QLabel()
        self.where.setWordWrap(True)
        right.addWidget(self.where)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        right.addWidget(self.text, 1)
        self.key_note = QLabel(
            f"This gateway asks every caller for a client key: replace {KEY_PLACEHOLDER} with one "
            "(python -m gateway keys create --label NAME)."
        )
        self.key_note.setWordWrap(True)
        self.key_note.hide()
        right.addWidget(self.key_note)
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: self.context.copy(self.text.toPlainText()))
        right.addWidget(copy)
        body.addLayout(right, 1)
        self.layout_.addLayout(body, 1)
        self._fill()

    def _fill(self) -> None:
        current = self.tools.currentRow()
        url = self.context.host.url or DEFAULT_URL
        self._snippets = snippets(url, KEY_PLACEHOLDER if self._keys_needed else None)
        if self.tools.count() != len(self._snippets):
            self.tools.clear()
            self.tools.addItems([s.tool for s in self._snippets])
        self.tools.setCurrentRow(max(0, current))
        self._show(self.tools.currentRow())

    def _show(self, row: int) -> None:
        if 0 <= row < len(self._snippets):
            snippet = self._snippets[row]
            self.where.setText(snippet.where)
            self.text.setPlainText(snippet.text)
        self.key_note.setVisible(self._keys_needed)

    def choose(self, tool: str) -> None:
        names = [s.tool for s in self._snippets]
        if tool in names:
            self.tools.setCurrentRow(names.index(tool))

    def show_status(self, status: StatusDocument | None) -> None:
        needed = status is not None and "access" in status and status["access"]["require_keys"]
        if needed != self._keys_needed or (
            self.context.host.url and self.context.host.url not in self.text.toPlainText()
        ):
            self._keys_needed = needed
            self._fill()
