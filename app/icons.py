"""The app's icons, drawn rather than loaded, so they are sharp at every size and scale: a
rounded square in the state's colour with a switchboard's patch cords (three jacks, two cords).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from app.viewmodels.health import DEGRADED, PAUSED, SERVING, STOPPED

COLOURS = {
    SERVING: "#2e9e5b",
    DEGRADED: "#d99a1e",
    STOPPED: "#c94040",
    PAUSED: "#7d8590",
}
SIZES = (16, 20, 22, 24, 32, 40, 48, 64, 128, 256)


def draw(state: str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(COLOURS.get(state, COLOURS[STOPPED])))
    p.drawRoundedRect(QRectF(s * 0.04, s * 0.04, s * 0.92, s * 0.92), s * 0.22, s * 0.22)
    jacks = [QPointF(s * 0.30, s * 0.30), QPointF(s * 0.70, s * 0.50), QPointF(s * 0.30, s * 0.72)]
    cord = QPen(QColor("white"), max(1.5, s * 0.085), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(cord)
    if state == PAUSED:  # the cords unplugged: two bars instead
        p.drawLine(QPointF(s * 0.40, s * 0.30), QPointF(s * 0.40, s * 0.70))
        p.drawLine(QPointF(s * 0.60, s * 0.30), QPointF(s * 0.60, s * 0.70))
    else:
        p.drawLine(jacks[0], jacks[1])
        p.drawLine(jacks[1], jacks[2])
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("white"))
        r = max(1.5, s * 0.095)
        for jack in jacks:
            p.drawEllipse(jack, r, r)
    if state == STOPPED:  # a cross over it, for those who do not see the red
        p.setPen(QPen(QColor("white"), max(1.5, s * 0.07), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(s * 0.62, s * 0.62), QPointF(s * 0.86, s * 0.86))
        p.drawLine(QPointF(s * 0.86, s * 0.62), QPointF(s * 0.62, s * 0.86))
    p.end()
    return pixmap


def icon(state: str) -> QIcon:
    out = QIcon()
    for size in SIZES:
        out.addPixmap(draw(state, size))
    return out
