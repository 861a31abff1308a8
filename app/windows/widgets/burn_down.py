"""A quota window's burn-down, drawn with QPainter: the share left from the window's start to its
reset, solid as seen, dashed where this pace leads (red when it runs out before the reset)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.colours import BAD, SERIES
from app.theme import SPACE_S
from app.viewmodels.charts import BurnDown


class BurnDownChart(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(180, 64)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.data: BurnDown | None = None
        self.setToolTip("What is left of this window, from its start to its reset; dashed: at this pace.")

    def set_data(self, data: BurnDown | None) -> None:
        self.data = data
        self.setVisible(data is not None)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.data is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        box = QRectF(self.rect()).adjusted(SPACE_S, SPACE_S, -SPACE_S, -14)
        p.fillRect(box, palette.base())
        p.setPen(palette.mid().color())
        p.drawRect(box)

        def point(share: float, left: float) -> QPointF:
            return QPointF(box.left() + box.width() * share, box.bottom() - box.height() * left / 100.0)

        line = QColor(SERIES[0])
        p.setPen(QPen(line, 2.0))
        seen = [point(*xy) for xy in self.data.seen]
        p.drawPolyline(seen)
        if self.data.projected is not None:
            ahead = QColor(BAD) if self.data.runs_out else line
            p.setPen(QPen(ahead, 1.6, Qt.PenStyle.DashLine))
            p.drawLine(seen[-1], point(*self.data.projected))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(line)
        p.drawEllipse(seen[-1], 3.0, 3.0)
        p.setPen(palette.placeholderText().color())
        font = p.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        p.setFont(font)
        p.drawText(QRectF(box.left(), box.bottom() + 1, box.width() / 2, 13), Qt.AlignmentFlag.AlignLeft, "start")
        p.drawText(
            QRectF(box.center().x(), box.bottom() + 1, box.width() / 2, 13), Qt.AlignmentFlag.AlignRight, "reset"
        )
        p.end()
