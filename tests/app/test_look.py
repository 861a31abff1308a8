"""The window fits a small screen (1024×640) whatever its pages show, its pages are reached from
the keyboard, check boxes show on dark, and the icons are painted at the pixel ratio asked for."""

from __future__ import annotations

from app_fixtures import MakeApp
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QScrollArea
from pytestqt.qtbot import QtBot

from app.icons import GLYPHS, draw, glyph_for, page_icon
from app.theme import DARK, LIGHT, apply_theme
from app.viewmodels.health import PAUSED, SERVING, STOPPED
from app.windows.settings import SettingsPage

SMALL = QSize(1024, 640)
LONG = (
    "The gateway could not start because the address it listens on is taken by another program, and "
    "the settings it was given last time could not be read either, so nothing answers yet: "
) * 4


def test_the_window_fits_1024_by_640_with_long_errors_on_every_page(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    window = app.window
    window.show()
    qtbot.waitExposed(window)
    window.resize(SMALL)
    settings = window.pages["Settings"]
    assert isinstance(settings, SettingsPage)
    settings.folder.setText("/home/someone" + "/a folder with a long name" * 12)  # a path no screen holds
    for title, page in window.pages.items():
        window.go(title)
        page.say(LONG, error=True)
        for label in page.findChildren(QLabel):
            if label.objectName() in ("heading", "big"):
                label.setText(LONG)
        qtbot.wait(50)
        assert window.minimumSizeHint().width() <= SMALL.width(), title
        assert window.minimumSizeHint().height() <= SMALL.height(), title
        assert window.minimumSize().width() <= SMALL.width() and window.minimumSize().height() <= SMALL.height()
    window.resize(SMALL)
    qtbot.wait(50)
    assert window.size() == SMALL
    for n, (title, page) in enumerate(window.pages.items()):
        window.nav.setCurrentRow(n)
        qtbot.wait(30)
        area = window.stack.currentWidget()
        assert isinstance(area, QScrollArea) and area.widget() == page
        # Nothing clipped: the page has at least the room it needs, scrolling down rather than across.
        assert area.horizontalScrollBar().maximum() == 0, title
        assert page.height() >= page.minimumSizeHint().height(), title
        assert page.width() <= area.viewport().width(), title


def test_the_sidebar_and_each_page_are_reached_from_the_keyboard(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    window = app.window
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitActive(window):
        window.activateWindow()
    titles = list(window.pages)
    for n in range(min(9, len(titles))):
        QTest.keyClick(window, Qt.Key(Qt.Key.Key_1 + n), Qt.KeyboardModifier.ControlModifier)
        assert window.current.title == titles[n]
    window.current.focusNextChild()  # somewhere on the page; F6 goes to the sidebar, and back
    assert not window.nav.hasFocus()
    QTest.keyClick(window, Qt.Key.Key_F6)
    assert window.nav.hasFocus()
    QTest.keyClick(window.nav, Qt.Key.Key_Up)
    assert window.current.title == titles[min(9, len(titles)) - 2]
    QTest.keyClick(window, Qt.Key.Key_F6)
    focused = QApplication.focusWidget()
    assert focused is not None and window.current.isAncestorOf(focused)


def _indicator_colours(qtbot: QtBot, checked: bool) -> set[str]:
    box = QCheckBox("Start at login")
    qtbot.addWidget(box)
    box.setChecked(checked)
    box.resize(box.sizeHint())
    image = box.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return {QColor(image.pixel(x, y)).name() for x in range(min(24, image.width())) for y in range(image.height())}


def test_check_boxes_show_on_dark(qtbot: QtBot, qapp: QApplication) -> None:
    try:
        apply_theme(qapp, "dark")
        unchecked = _indicator_colours(qtbot, False)
        checked = _indicator_colours(qtbot, True)
        assert DARK.muted in unchecked  # an outline that stands out from the window
        assert DARK.accent in checked and DARK.accent_text in checked  # filled, with a tick
    finally:
        apply_theme(qapp, "light")
    assert LIGHT.muted in _indicator_colours(qtbot, False)


def test_icons_are_drawn_at_the_pixel_ratio_asked_for(qapp: QApplication) -> None:
    sharp = page_icon("Usage").pixmap(QSize(20, 20), 2.0)
    assert sharp.devicePixelRatio() == 2.0 and sharp.size() == QSize(40, 40)
    assert not sharp.toImage().isNull() and sharp.toImage() != QImage(40, 40, QImage.Format.Format_ARGB32)
    assert glyph_for("Providers and keys") is GLYPHS["providers"] and glyph_for("Something new") not in GLYPHS.values()
    status = draw(SERVING, 22, 2.0)
    assert status.size() == QSize(44, 44) and status.devicePixelRatio() == 2.0
    images = {state: draw(state, 32).toImage() for state in (SERVING, PAUSED, STOPPED)}
    assert images[SERVING] != images[PAUSED] != images[STOPPED]
