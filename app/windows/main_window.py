"""The control window: a sidebar of pages on the left, the chosen page on the right.

Each page sits in a scroll area, so the window fits a small screen whatever a page holds: a long
page scrolls instead of pushing the window's minimum size past the screen (it only ever grew, and
Settings ran off a 768-pixel screen). For the same reason headings and messages wrap instead of
widening the window.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.icons import icon, page_icon
from app.theme import SPACE_L, SPACE_M, SPACE_XL
from app.viewmodels.health import SERVING
from app.windows.page import Context, Page
from gateway import StatusDocument

SIDEBAR_WIDTH = 224
START_SIZE = QSize(1100, 700)  # shrunk to the screen when it is smaller
SMALLEST = QSize(640, 420)  # the window's own minimum: well inside a 1024×640 screen
WRAPPED = ("heading", "big", "note", "notice", "error", "warning")  # labels' names for headings and messages


def page_scroll(page: Page) -> QScrollArea:
    """The page in a scroll area of its own, its headings and messages wrapping: the labels in the
    page's own column, and those named as such wherever they are (a path in a form row is left
    whole; were it wider than the window, the page would scroll across rather than clip it)."""
    column = [item.widget() for n in range(page.layout_.count()) if (item := page.layout_.itemAt(n)) is not None]
    for label in page.findChildren(QLabel):
        if label in column or label.objectName() in WRAPPED:
            label.setWordWrap(True)
    page.setObjectName("pageBody")
    page.layout_.setContentsMargins(SPACE_XL, SPACE_L, SPACE_XL, SPACE_L)
    page.layout_.setSpacing(SPACE_M + 2)
    area = QScrollArea()
    area.setObjectName("pageScroll")
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setWidget(page)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the page's own fields, not the frame
    return area


class MainWindow(QMainWindow):
    visibility_changed = Signal(bool)
    quit_requested = Signal()  # closed where there is no tray to come back from

    def __init__(self, context: Context, pages: list[type[Page]], notice: str = "") -> None:
        super().__init__()
        self.hide_on_close = True
        self.setWindowTitle("Switchboard")
        self.setWindowIcon(icon(SERVING))
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.notice = QLabel(notice)  # e.g. why there is no tray icon
        self.notice.setWordWrap(True)
        self.notice.setObjectName("notice")
        self.notice.setVisible(bool(notice))
        outer.addWidget(self.notice)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        outer.addLayout(body, 1)
        sidebar = QWidget()
        sidebar.setObjectName("sidebar")
        sidebar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        sidebar.setFixedWidth(SIDEBAR_WIDTH)
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(0, 0, 0, SPACE_M)
        brand = QLabel("Switchboard")
        brand.setObjectName("brand")
        side.addWidget(brand)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side.addWidget(self.nav, 1)
        self.stack = QStackedWidget()
        self.pages: dict[str, Page] = {}
        for n, page_type in enumerate(pages):
            page = page_type(context)
            self.pages[page.title] = page
            item = QListWidgetItem(page_icon(page.title), page.title)
            if n < 9:
                item.setToolTip(f"{page.title} (Ctrl+{n + 1})")
            self.nav.addItem(item)
            self.stack.addWidget(page_scroll(page))
        self.nav.currentRowChanged.connect(self._turn)
        body.addWidget(sidebar)
        body.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        for n in range(min(9, len(pages))):  # Ctrl+1 … Ctrl+9 go to the pages
            QShortcut(QKeySequence(f"Ctrl+{n + 1}"), self, lambda n=n: self.nav.setCurrentRow(n))
        QShortcut(QKeySequence("F6"), self, self._switch_focus)  # between the sidebar and the page
        QShortcut(QKeySequence.StandardKey.Close, self, self.close)
        self.nav.setCurrentRow(0)
        self.nav.setFocus()  # keyboard users start in the sidebar: arrows turn the pages, Tab enters one
        self.setMinimumSize(SMALLEST)
        self.resize(self._start_size())

    def _start_size(self) -> QSize:
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is None:
            return START_SIZE
        return START_SIZE.boundedTo(QSize(screen.width() - 40, screen.height() - 40)).expandedTo(SMALLEST)

    def minimumSizeHint(self) -> QSize:
        """Never more than ``SMALLEST``: what a page holds scrolls, and the notice wraps."""
        return super().minimumSizeHint().boundedTo(SMALLEST)

    @property
    def current(self) -> Page:
        area = self.stack.currentWidget()
        assert isinstance(area, QScrollArea)
        page = area.widget()
        assert isinstance(page, Page)
        return page

    def _turn(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        self.setWindowTitle(self.current.title)  # Qt adds " — Switchboard", the application's name
        if self.isVisible():
            self.current.shown()

    def _switch_focus(self) -> None:
        if self.nav.hasFocus():
            self.current.focusNextChild()
        else:
            self.nav.setFocus(Qt.FocusReason.ShortcutFocusReason)

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
