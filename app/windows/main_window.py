"""The control window: a list of pages on the left, the chosen page on the right."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.icons import icon
from app.viewmodels.health import SERVING
from app.windows.page import Context, Page
from gateway import StatusDocument


class MainWindow(QMainWindow):
    visibility_changed = Signal(bool)
    quit_requested = Signal()  # closed where there is no tray to come back from

    def __init__(self, context: Context, pages: list[type[Page]], notice: str = "") -> None:
        super().__init__()
        self.hide_on_close = True
        self.setWindowTitle("Switchboard")
        self.setWindowIcon(icon(SERVING))
        self.resize(QSize(980, 640))
        central = QWidget()
        outer = QVBoxLayout(central)
        self.notice = QLabel(notice)  # e.g. why there is no tray icon
        self.notice.setWordWrap(True)
        self.notice.setObjectName("notice")
        self.notice.setVisible(bool(notice))
        outer.addWidget(self.notice)
        body = QHBoxLayout()
        outer.addLayout(body, 1)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(190)
        self.stack = QStackedWidget()
        self.pages: dict[str, Page] = {}
        for page_type in pages:
            page = page_type(context)
            self.pages[page.title] = page
            self.nav.addItem(page.title)
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self._turn)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        for n in range(min(9, len(pages))):  # Ctrl+1 … Ctrl+9 go to the pages
            QShortcut(QKeySequence(f"Ctrl+{n + 1}"), self, lambda n=n: self.nav.setCurrentRow(n))
        QShortcut(QKeySequence.StandardKey.Close, self, self.close)
        self.nav.setCurrentRow(0)

    @property
    def current(self) -> Page:
        page = self.stack.currentWidget()
        assert isinstance(page, Page)
        return page

    def _turn(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        if self.isVisible():
            self.current.shown()

    def go(self, title: str) -> Page:
        page = self.pages[title]
        self.nav.setCurrentRow(list(self.pages).index(title))
        return page

    def show_status(self, status: StatusDocument | None) -> None:
        for page in self.pages.values():
            page.show_status(status)

    def bring_forward(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~self.windowState().WindowMinimized)
        self.raise_()
        self.activateWindow()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.visibility_changed.emit(True)
        self.current.shown()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window hides it, and the gateway goes on serving from the tray; without a
        tray, closing it quits."""
        event.ignore()
        self.hide()
        self.visibility_changed.emit(False)
        if not self.hide_on_close:
            self.quit_requested.emit()
