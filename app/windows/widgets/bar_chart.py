"""A bar chart drawn with QPainter: tokens or dollars per hour or day, each bar stacked by provider, with a
legend and the numbers of a bar on hover. (QtCharts would need PySide6-Addons, another 160 MB,
for two charts.)"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from app.colours import SERIES
from app.theme import SPACE_M, SPACE_S
from app.viewmodels.money import dollars, short_dollars

MAX_BAR = 48.0  # pixels: a few bars stay bars, not slabs
LEFT, TOP, BOTTOM = 52.0, 30.0, 22.0  # room for the scale, the legend and the labels


class BarChart(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setMinimumHeight(180)
        self.setMouseTracking(True)
        self.labels: list[str] = []
        self.series: dict[str, list[float]] = {}
        self.money = False  # dollars, not tokens: the scale and the numbers on hover say them so

    @property
    def bars(self) -> list[tuple[str, float]]:
        """Each bar's label and total."""
        totals = [sum(values) for values in zip(*self.series.values(), strict=True)] or [0.0] * len(self.labels)
        return list(zip(self.labels, totals, strict=True))

    def set_bars(self, bars: Sequence[tuple[str, float]]) -> None:
        """One series: no legend."""
        self.set_stacks([label for label, _ in bars], {"": [value for _, value in bars]})

    def set_stacks(self, labels: Sequence[str], series: Mapping[str, Sequence[float]], *, money: bool = False) -> None:
        """Bars of ``labels``, each stacked of ``series`` (name: a value per label), bottom first;
        ``money``: the values are dollars."""
        self.money = money
        self.labels = list(labels)
        self.series = {name: list(values) for name, values in series.items()}
        self.update()

    def _box(self) -> QRectF:
        return QRectF(self.rect()).adjusted(LEFT, TOP, -SPACE_M, -BOTTOM)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text, muted = palette.windowText().color(), palette.placeholderText().color()
        scale = short_dollars if self.money else short
        box = self._box()
        bars = self.bars
        top = nice(max((v for _, v in bars), default=0.0))
        if not top:
            p.setPen(muted)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No requests in this period yet.")
            return
        p.setPen(QPen(palette.mid().color(), 1.0, Qt.PenStyle.DotLine))
        for share in (0.5, 1.0):
            y = box.bottom() - box.height() * share
            p.drawLine(QPointF(box.left(), y), QPointF(box.right(), y))
        p.setPen(muted)
        for share in (0.0, 0.5, 1.0):
            y = box.bottom() - box.height() * share
            p.drawText(QRectF(0, y - 8, LEFT - SPACE_M, 16), Qt.AlignmentFlag.AlignRight, scale(top * share))
        step = box.width() / len(bars)
        width = min(step * 0.7, MAX_BAR)
        label_every = max(1, int(60 // step) + 1)  # labels no closer than ~60 px
        for n, label in enumerate(self.labels):
            x, y = box.left() + n * step + (step - width) / 2, box.bottom()
            for k, values in enumerate(self.series.values()):
                height = box.height() * values[n] / top
                p.fillRect(QRectF(x, y - height, width, height), QColor(SERIES[k % len(SERIES)]))
                y -= height
            if n % label_every == 0:
                p.setPen(muted)
                p.drawText(
                    QRectF(box.left() + n * step - 20, box.bottom() + SPACE_S, step + 40, 14),
                    Qt.AlignmentFlag.AlignHCenter,
                    label,
                )
        p.setPen(palette.mid().color())
        p.drawLine(box.bottomLeft(), box.bottomRight())
        self._legend(p, text)
        p.end()

    def _legend(self, p: QPainter, text: QColor) -> None:
        """The names, right-aligned along the top, the first (the biggest) leftmost."""
        names = [name for name in self.series if name]
        metrics = self.fontMetrics()
        x = float(self.width() - SPACE_M)
        for k in range(len(names) - 1, -1, -1):
            width = metrics.horizontalAdvance(names[k])
            x -= width
            p.setPen(text)
            p.drawText(QRectF(x, 4, width + 2, 18), Qt.AlignmentFlag.AlignVCenter, names[k])
            x -= 16
            p.fillRect(QRectF(x, 8, 10, 10), QColor(SERIES[k % len(SERIES)]))
            x -= SPACE_M * 2

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        box = self._box()
        if not self.labels or not box.contains(event.position()):
            QToolTip.hideText()
            return
        n = min(len(self.labels) - 1, int((event.position().x() - box.left()) / (box.width() / len(self.labels))))
        what = "Spend" if self.money else "Tokens"
        shown = dollars if self.money else (lambda value: f"{value:,.0f}")
        lines = [self.labels[n]] + [f"{name or what}: {shown(v[n])}" for name, v in self.series.items() if v[n]]
        QToolTip.showText(event.globalPosition().toPoint(), "\n".join(lines), self)


def nice(value: float) -> float:
    """The scale's top: the next 1, 2, 2.5 or 5 times a power of ten (348 → 500), so its halves read well."""
    if value <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1.0, 2.0, 2.5, 5.0, 10.0) if step * power >= value)


def short(value: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return f"{value:.0f}"
