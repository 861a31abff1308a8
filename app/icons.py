"""The app's icons, drawn rather than loaded, so they are sharp at every size and scale.

The app and tray icon is a switchboard: a panel of jacks in the state's colour (the colours are
the theme's), with a patch cord plugged across it; paused, the cord is out; stopped, a cross in its place.
The sidebar's glyphs are painted by an icon engine at the size and pixel ratio asked for, in the
palette's text colour, so they follow the theme and stay crisp on a HiDPI screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QApplication

from app.theme import STATUS
from app.viewmodels.health import PAUSED, STOPPED

SIZES = (16, 20, 22, 24, 32, 40, 48, 64, 128, 256)
WHITE = QColor("white")


def draw(state: str, size: int, scale: float = 1.0) -> QPixmap:
    """The state's icon, ``size`` logical pixels square at ``scale`` device pixels each."""
    pixmap = QPixmap(round(size * scale), round(size * scale))
    pixmap.setDevicePixelRatio(scale)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(STATUS.get(state, STATUS[STOPPED])))
    p.drawRoundedRect(QRectF(s * 0.04, s * 0.04, s * 0.92, s * 0.92), s * 0.22, s * 0.22)
    # Two rows of three jacks; small icons get fewer, bigger ones.
    columns = (0.27, 0.5, 0.73) if size >= 24 else (0.3, 0.7)
    rows = (0.3, 0.7)
    hole = s * (0.075 if size >= 24 else 0.1)
    ring = QPen(WHITE, max(1.0, s * 0.045))
    for y in rows:
        for x in columns:
            p.setPen(ring)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(QPointF(s * x, s * y), hole, hole)
    if state not in (PAUSED, STOPPED):  # a patch cord from the top row's first jack to the bottom row's last
        start, end = QPointF(s * columns[0], s * rows[0]), QPointF(s * columns[-1], s * rows[1])
        cord = QPainterPath(start)
        cord.cubicTo(QPointF(s * 0.2, s * 0.75), QPointF(s * 0.8, s * 0.25), end)
        p.setPen(QPen(WHITE, max(1.5, s * 0.09), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawPath(cord)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(WHITE)
        for plug in (start, end):
            p.drawEllipse(plug, hole * 1.25, hole * 1.25)
    if state == STOPPED:  # a cross in the cord's place, for those who do not see the red
        p.setPen(QPen(WHITE, max(1.5, s * 0.09), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(s * 0.36, s * 0.36), QPointF(s * 0.64, s * 0.64))
        p.drawLine(QPointF(s * 0.64, s * 0.36), QPointF(s * 0.36, s * 0.64))
    p.end()
    return pixmap


def icon(state: str) -> QIcon:
    """Pixmaps at the usual sizes: a window manager and a tray take the icon as pixmaps."""
    out = QIcon()
    for size in SIZES:
        out.addPixmap(draw(state, size))
    return out


# --- the sidebar's glyphs ---------------------------------------------------------------------

Glyph = Callable[[QPainter, float], None]  # draws in a square of the given side, pen already set


def _overview(p: QPainter, s: float) -> None:
    for x, y, w, h in ((0.12, 0.12, 0.34, 0.42), (0.54, 0.12, 0.34, 0.26), (0.12, 0.62, 0.34, 0.26)):
        p.drawRoundedRect(QRectF(s * x, s * y, s * w, s * h), s * 0.06, s * 0.06)
    p.drawRoundedRect(QRectF(s * 0.54, s * 0.46, s * 0.34, s * 0.42), s * 0.06, s * 0.06)


def _key(p: QPainter, s: float) -> None:
    p.drawEllipse(QPointF(s * 0.32, s * 0.5), s * 0.18, s * 0.18)
    p.drawLine(QPointF(s * 0.5, s * 0.5), QPointF(s * 0.9, s * 0.5))
    p.drawLine(QPointF(s * 0.78, s * 0.5), QPointF(s * 0.78, s * 0.68))
    p.drawLine(QPointF(s * 0.66, s * 0.5), QPointF(s * 0.66, s * 0.62))


def _computer(p: QPainter, s: float) -> None:
    p.drawRoundedRect(QRectF(s * 0.1, s * 0.16, s * 0.8, s * 0.52), s * 0.06, s * 0.06)
    p.drawLine(QPointF(s * 0.5, s * 0.68), QPointF(s * 0.5, s * 0.84))
    p.drawLine(QPointF(s * 0.3, s * 0.86), QPointF(s * 0.7, s * 0.86))


def _person(p: QPainter, s: float) -> None:
    p.drawEllipse(QPointF(s * 0.5, s * 0.33), s * 0.17, s * 0.17)
    p.drawArc(QRectF(s * 0.16, s * 0.58, s * 0.68, s * 0.6), 0, 180 * 16)


def _gauge(p: QPainter, s: float) -> None:
    p.drawArc(QRectF(s * 0.1, s * 0.22, s * 0.8, s * 0.8), 0, 180 * 16)
    angle = math.radians(40)
    centre = QPointF(s * 0.5, s * 0.62)
    p.drawLine(centre, centre + QPointF(math.cos(angle) * s * 0.3, -math.sin(angle) * s * 0.3))
    p.drawLine(QPointF(s * 0.1, s * 0.8), QPointF(s * 0.9, s * 0.8))


def _bars(p: QPainter, s: float) -> None:
    for x, top in ((0.2, 0.5), (0.44, 0.22), (0.68, 0.38)):
        p.drawRoundedRect(QRectF(s * x, s * top, s * 0.14, s * (0.84 - top)), s * 0.03, s * 0.03)
    p.drawLine(QPointF(s * 0.1, s * 0.86), QPointF(s * 0.9, s * 0.86))


def _log(p: QPainter, s: float) -> None:
    p.drawRoundedRect(QRectF(s * 0.2, s * 0.1, s * 0.6, s * 0.8), s * 0.06, s * 0.06)
    for y in (0.32, 0.5, 0.68):
        p.drawLine(QPointF(s * 0.34, s * y), QPointF(s * 0.66, s * y))


def _plug(p: QPainter, s: float) -> None:
    p.drawLine(QPointF(s * 0.38, s * 0.08), QPointF(s * 0.38, s * 0.26))
    p.drawLine(QPointF(s * 0.62, s * 0.08), QPointF(s * 0.62, s * 0.26))
    body = QPainterPath(QPointF(s * 0.24, s * 0.28))
    body.lineTo(QPointF(s * 0.76, s * 0.28))
    body.lineTo(QPointF(s * 0.76, s * 0.46))
    body.quadTo(QPointF(s * 0.76, s * 0.66), QPointF(s * 0.5, s * 0.66))
    body.quadTo(QPointF(s * 0.24, s * 0.66), QPointF(s * 0.24, s * 0.46))
    body.closeSubpath()
    p.drawPath(body)
    cord = QPainterPath(QPointF(s * 0.5, s * 0.66))
    cord.cubicTo(QPointF(s * 0.5, s * 0.9), QPointF(s * 0.8, s * 0.8), QPointF(s * 0.86, s * 0.94))
    p.drawPath(cord)


def _gear(p: QPainter, s: float) -> None:
    centre = QPointF(s * 0.5, s * 0.5)
    p.drawEllipse(centre, s * 0.13, s * 0.13)
    path = QPainterPath()
    teeth = 8
    for n in range(teeth * 2):
        for half in (-0.32, 0.32):
            a = (n + 0.5 + half) * math.pi / teeth
            r = s * (0.42 if n % 2 == 0 else 0.31)
            point = centre + QPointF(math.cos(a) * r, math.sin(a) * r)
            if n == 0 and half < 0:
                path.moveTo(point)
            else:
                path.lineTo(point)
    path.closeSubpath()
    p.drawPath(path)


def _cube(p: QPainter, s: float) -> None:
    top, mid, low = QPointF(s * 0.5, s * 0.1), QPointF(s * 0.5, s * 0.48), QPointF(s * 0.5, s * 0.9)
    left, right = QPointF(s * 0.14, s * 0.3), QPointF(s * 0.86, s * 0.3)
    p.drawPolygon([top, right, QPointF(s * 0.86, s * 0.7), low, QPointF(s * 0.14, s * 0.7), left])
    p.drawPolyline([left, mid, right])
    p.drawLine(mid, low)


def _fork(p: QPainter, s: float) -> None:
    """One way in, branching to two: a name sent where a rule says."""
    start, split = QPointF(s * 0.14, s * 0.5), QPointF(s * 0.42, s * 0.5)
    p.drawLine(start, split)
    for y in (0.22, 0.78):
        branch = QPainterPath(split)
        branch.cubicTo(QPointF(s * 0.56, s * 0.5), QPointF(s * 0.6, s * y), QPointF(s * 0.8, s * y))
        p.drawPath(branch)
        p.drawEllipse(QPointF(s * 0.84, s * y), s * 0.05, s * 0.05)


def _dot(p: QPainter, s: float) -> None:
    p.drawEllipse(QPointF(s * 0.5, s * 0.5), s * 0.2, s * 0.2)


GLYPHS: dict[str, Glyph] = {
    "overview": _overview,
    "welcome": _overview,
    "providers": _key,
    "local": _computer,
    "accounts": _person,
    "quotas": _gauge,
    "usage": _bars,
    "audit": _log,
    "connect": _plug,
    "settings": _gear,
    "models": _cube,
    "model": _fork,  # Model rules
}


def glyph_for(title: str) -> Glyph:
    """A page's glyph, by the first word of its title ("Providers and keys": providers)."""
    return GLYPHS.get(title.split()[0].lower() if title.strip() else "", _dot)


class GlyphEngine(QIconEngine):
    """Paints a glyph on demand at any size and pixel ratio, in the palette's current text colour
    (the highlighted text's when selected), so nothing is scaled from a bitmap."""

    def __init__(self, glyph: Glyph) -> None:
        super().__init__()
        self.glyph = glyph

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        palette = QApplication.palette()
        colour = palette.placeholderText().color() if mode == QIcon.Mode.Disabled else palette.windowText().color()
        side = float(min(rect.width(), rect.height()))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(rect.x() + (rect.width() - side) / 2, rect.y() + (rect.height() - side) / 2)
        pen = QPen(colour, max(1.2, side * 0.085), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        self.glyph(painter, side)
        painter.restore()

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        pixmap = QPixmap(size * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        self.paint(painter, QRect(0, 0, size.width(), size.height()), mode, state)
        painter.end()
        return pixmap

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def clone(self) -> QIconEngine:
        return GlyphEngine(self.glyph)


def page_icon(title: str) -> QIcon:
    return QIcon(GlyphEngine(glyph_for(title)))


def dot(colour: str) -> QIcon:
    """A small disc in ``colour`` (a state's, as the Connect page marks its tools); "" leaves the
    space empty, so the names beside stay aligned."""
    out = QIcon()
    for size in (16, 32):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        if colour:
            p = QPainter(pixmap)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(colour))
            p.drawEllipse(QRectF(size * 0.25, size * 0.25, size * 0.5, size * 0.5))
            p.end()
        out.addPixmap(pixmap)
    return out
