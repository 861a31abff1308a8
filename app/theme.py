"""The app's look in one place: spacing, a type scale, cards, a light and a dark palette, and the
status colours the tray icon, the meters and the charts share.

The scheme follows the system's (Qt ≥ 6.5 tells it) or the one chosen in Settings. Our palettes
are set outright in both: where the platform has no colour-scheme support (X11 without a desktop
portal, say) asking for a scheme alone changes nothing. Fusion draws the widgets the same on every
OS; ``Indicators`` draws its check boxes and radio buttons with a border that shows on dark too.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

# The colours that carry meaning are app.colours' (view models name them too), and the look's.
from app.colours import BAD as BAD
from app.colours import GOOD as GOOD
from app.colours import IDLE as IDLE
from app.colours import SERIES as SERIES
from app.colours import WARN as WARN
from app.viewmodels.health import DEGRADED, PAUSED, SERVING, STOPPED

# The gateway's state, as the tray icon and Overview show it.
STATUS = {SERVING: GOOD, DEGRADED: WARN, STOPPED: BAD, PAUSED: IDLE}

# Spacing, in pixels: every margin and gap is one of these.
SPACE_S, SPACE_M, SPACE_L, SPACE_XL = 4, 8, 16, 24
RADIUS = 8
# The type scale, in points: page title, section, figure; the body is the system's own size.
TITLE_PT, SECTION_PT, FIGURE_PT = 18, 13, 22


@dataclass(frozen=True, slots=True)
class Scheme:
    window: str  # the page
    sidebar: str
    card: str  # tables, fields and cards
    alternate: str
    text: str
    muted: str  # secondary text, placeholder
    border: str
    accent: str
    accent_text: str
    selected: str  # the chosen sidebar entry
    button: str
    notice: tuple[str, str, str]  # background, text, border


LIGHT = Scheme(
    window="#f6f7f9",
    sidebar="#eceef2",
    card="#ffffff",
    alternate="#f3f5f8",
    text="#1d2430",
    muted="#5f6b7a",
    border="#cfd5dd",
    accent="#2f6fde",
    accent_text="#ffffff",
    selected="#dce7fb",
    button="#ffffff",
    notice=("#fff4d6", "#5c4400", "#e0c36a"),
)
DARK = Scheme(
    window="#202226",
    sidebar="#1a1b1f",
    card="#2a2c31",
    alternate="#303238",
    text="#e6e8eb",
    muted="#a1a9b5",
    border="#4a4f58",
    accent="#5b93f5",
    accent_text="#0e1116",
    selected="#2f3f5e",
    button="#33363c",
    notice=("#3d3422", "#f3dfa6", "#7a6431"),
)
# The tray's notice on X11 (Qt's own balloon) is drawn on a fixed pale yellow whatever the scheme:
# its words in the light scheme's text colour, or on dark they were pale on pale.
BALLOON_TEXT = LIGHT.text
SCHEMES = {"system": Qt.ColorScheme.Unknown, "light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}


def palette(s: Scheme) -> QPalette:
    out = QPalette()
    roles = {
        QPalette.ColorRole.Window: s.window,
        QPalette.ColorRole.WindowText: s.text,
        QPalette.ColorRole.Base: s.card,
        QPalette.ColorRole.AlternateBase: s.alternate,
        QPalette.ColorRole.ToolTipBase: s.card,
        QPalette.ColorRole.ToolTipText: s.text,
        QPalette.ColorRole.Text: s.text,
        QPalette.ColorRole.Button: s.button,
        QPalette.ColorRole.ButtonText: s.text,
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: s.accent,
        QPalette.ColorRole.HighlightedText: s.accent_text,
        QPalette.ColorRole.Link: s.accent,
        QPalette.ColorRole.LinkVisited: s.accent,
        QPalette.ColorRole.PlaceholderText: s.muted,
        QPalette.ColorRole.Mid: s.border,
        QPalette.ColorRole.Dark: s.border,
        QPalette.ColorRole.Light: s.card,
        QPalette.ColorRole.Midlight: s.alternate,
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, colour in roles.items():
        out.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        out.setColor(QPalette.ColorGroup.Disabled, role, QColor(s.muted))
    return out


def style_sheet(s: Scheme) -> str:
    bg, fg, border = s.notice
    return f"""
QLabel#heading {{ font-size: {TITLE_PT}pt; font-weight: 600; padding: 0 0 {SPACE_S}px 0; qproperty-indent: 0; }}
QLabel#big {{ font-size: {SECTION_PT}pt; font-weight: 600; }}
QLabel#figure {{ font-size: {FIGURE_PT}pt; font-weight: 600; }}
QLabel#meterTitle {{ font-weight: 600; }}
QLabel#muted, QLabel#chartTitle {{ color: {s.muted}; }}
QLabel#notice {{ background: {bg}; color: {fg}; border: 1px solid {border}; border-radius: {RADIUS}px;
    padding: {SPACE_M}px {SPACE_L}px; }}
QLabel#note {{ padding: {SPACE_S}px 0; }}
QWidget#sidebar {{ background: {s.sidebar}; border-right: 1px solid {s.border}; }}
QLabel#brand {{ font-size: {SECTION_PT}pt; font-weight: 700; padding: {SPACE_L}px {SPACE_L}px {SPACE_M}px; }}
QListWidget#nav {{ background: transparent; border: none; font-size: 11pt; outline: 0; }}
QListWidget#nav::item {{ padding: {SPACE_M}px {SPACE_M}px; margin: 1px {SPACE_M}px; border-radius: 6px;
    color: {s.text}; }}
QListWidget#nav::item:hover {{ background: {s.alternate}; }}
QListWidget#nav::item:selected {{ background: {s.selected}; color: {s.text}; }}
QListWidget#nav::item:selected:focus {{ border: 1px solid {s.accent}; }}
QListWidget::item {{ padding: 3px {SPACE_S}px; }}
QScrollArea#pageScroll, QWidget#pageBody {{ background: {s.window}; border: none; }}
QGroupBox, QFrame#card {{ background: {s.card}; border: 1px solid {s.border}; border-radius: {RADIUS}px; }}
QGroupBox {{ margin-top: {SPACE_S}px; padding: {SPACE_M}px; padding-top: 1.6em; font-weight: 600; }}
/* The title inside the card as its heading, in line with what the card holds (padding + layout margin). */
QGroupBox::title {{ subcontrol-origin: border; subcontrol-position: top left; left: 17px; top: 10px; padding: 0; }}
QGroupBox > QWidget, QGroupBox QLabel, QGroupBox QCheckBox {{ font-weight: normal; }}
QTableView, QListWidget, QTreeView {{ background: {s.card}; border: 1px solid {s.border};
    border-radius: {RADIUS}px; gridline-color: {s.border}; }}
QHeaderView::section {{ background: {s.alternate}; color: {s.muted}; border: none;
    border-bottom: 1px solid {s.border}; padding: {SPACE_S}px {SPACE_M}px; font-weight: 600; }}
QPushButton {{ background: {s.button}; border: 1px solid {s.border}; border-radius: 6px;
    padding: 5px 14px; min-height: 1.3em; }}
QPushButton:hover {{ border-color: {s.accent}; }}
QPushButton:focus {{ border: 2px solid {s.accent}; padding: 4px 13px; }}
QPushButton:default, QPushButton[primary="true"] {{ background: {s.accent}; color: {s.accent_text};
    border-color: {s.accent}; }}
QPushButton#disclosure {{ background: transparent; border: none; padding: {SPACE_S}px 0; text-align: left;
    font-weight: 600; color: {s.accent}; }}
QPushButton#disclosure:focus {{ border: none; text-decoration: underline; }}
QListWidget#tools::item {{ padding: {SPACE_S}px {SPACE_S}px; }}
QPushButton:disabled {{ color: {s.muted}; background: {s.alternate}; }}
QLineEdit, QPlainTextEdit, QTextEdit {{ background: {s.card}; border: 1px solid {s.border};
    border-radius: 6px; padding: 4px 6px; selection-background-color: {s.accent}; }}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border: 1px solid {s.accent}; }}
QProgressBar {{ background: {s.alternate}; border: 1px solid {s.border}; border-radius: 6px; text-align: center;
    min-height: 1.4em; }}
QProgressBar::chunk {{ border-radius: 5px; }}
* {{ dialogbuttonbox-buttons-have-icons: 0; }}
QMessageBox QLabel#qt_msgbox_label {{ font-weight: 600; min-width: 360px; }}
QMessageBox QLabel#qt_msgbox_informativelabel {{ min-width: 360px; }}
QBalloonTip QLabel {{ color: {BALLOON_TEXT}; }}
QToolTip {{ background: {s.card}; color: {s.text}; border: 1px solid {s.border}; padding: {SPACE_S}px; }}
"""


class Indicators(QProxyStyle):
    """Fusion, with check boxes and radio buttons of our own: Fusion outlines them in the window
    colour darkened, which on a dark window is no outline at all."""

    def __init__(self, scheme: Scheme) -> None:
        super().__init__("Fusion")
        self.scheme = scheme

    def drawPrimitive(
        self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter, widget: QWidget | None = None
    ) -> None:
        box = element == QStyle.PrimitiveElement.PE_IndicatorCheckBox
        if not box and element != QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            super().drawPrimitive(element, option, painter, widget)
            return
        s = self.scheme
        on = bool(option.state & QStyle.StateFlag.State_On)
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)
        side = min(rect.width(), rect.height())
        rect = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(s.accent if on and enabled else s.card)
        edge = QColor(s.accent if on and enabled else s.muted)
        if not enabled:
            fill, edge = QColor(s.alternate), QColor(s.border)
        painter.setPen(QPen(edge, 1.2))
        painter.setBrush(fill)
        if box:
            painter.drawRoundedRect(rect, side * 0.22, side * 0.22)
        else:
            painter.drawEllipse(rect)
        if on:
            mark = QColor(s.accent_text if enabled else s.muted)
            if box:
                pen = QPen(mark, max(1.6, side * 0.14), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
                pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
                painter.setPen(pen)
                x, y = rect.x(), rect.y()
                tick = [QPointF(x + side * a, y + side * b) for a, b in ((0.25, 0.52), (0.43, 0.70), (0.76, 0.32))]
                painter.drawPolyline(tick)
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(mark)
                painter.drawEllipse(rect.center(), side * 0.2, side * 0.2)
        elif bool(option.state & QStyle.StateFlag.State_NoChange):
            painter.setPen(QPen(edge, max(1.6, side * 0.14), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            c = rect.center()
            painter.drawLine(QPointF(c.x() - side * 0.25, c.y()), QPointF(c.x() + side * 0.25, c.y()))
        painter.restore()


def scheme_of(app: QApplication, choice: str) -> Scheme:
    """``choice``: "system" (follow the desktop), "light" or "dark"."""
    if choice == "dark":
        return DARK
    if choice == "light":
        return LIGHT
    return DARK if app.styleHints().colorScheme() == Qt.ColorScheme.Dark else LIGHT


def apply_theme(app: QApplication, scheme: str = "system") -> None:
    app.styleHints().setColorScheme(SCHEMES.get(scheme, Qt.ColorScheme.Unknown))
    chosen = scheme_of(app, scheme)
    app.setStyle(Indicators(chosen))
    app.setPalette(palette(chosen))
    app.setStyleSheet(style_sheet(chosen))
