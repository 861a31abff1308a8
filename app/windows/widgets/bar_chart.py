"""A bar chart drawn with QPainter: tokens per hour or day. (QtCharts would need PySide6-Addons,
another 160 MB, for one chart.)"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

BAR = QColor("#3b7dd8")
MAX_BAR = 48.0  # pixels: a few bars stay bars, not slabs


class BarChart(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setMinimumHeight(160)
        self.bars: list[tuple[str, float]] = []

    def set_bars(self, bars: Sequence[tuple[str, float]]) -> None:
        self.bars = list(bars)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        box = QRectF(self.rect()).adjusted(48, 8, -8, -22)
        if not any(value for _, value in self.bars):
            p.setPen(text)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No requests in this period yet.")
            return
        top = max(v for _, v in self.bars) or 1.0
        p.setPen(text)
        p.drawText(QRectF(0, box.top() - 6, 44, 14), Qt.AlignmentFlag.AlignRight, _short(top))
        p.drawText(QRectF(0, box.bottom() - 8, 44, 14), Qt.AlignmentFlag.AlignRight, "0")
        p.drawLine(box.bottomLeft(), box.bottomRight())
        step = box.width() / len(self.bars)
        label_every = max(1, int(60 // step) + 1)  # labels no closer than ~60 px
        for n, (label, value) in enumerate(self.bars):
            height = box.height() * value / top
            width = min(step * 0.7, MAX_BAR)
            bar = QRectF(box.left() + n * step + (step - width) / 2, box.bottom() - height, width, height)
            p.fillRect(bar, BAR)
            if n % label_every == 0:
                p.drawText(
                    QRectF(box.left() + n * step - 20, box.bottom() + 4, step + 40, 14),
                    Qt.AlignmentFlag.AlignHCenter,
                    label,
                )
        p.end()


def _short(value: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.0f}"
