"""One quota meter, on a card: what it measures, a bar of the share used, a line on when it resets
and when, at this pace, it would run out, and for an account's window its burn-down."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout

from app.colours import BAD, GOOD, WARN
from app.theme import SPACE_L, SPACE_M
from app.viewmodels.charts import burn_down
from app.windows.widgets.burn_down import BurnDownChart
from gateway import QuotaReading

WARN_AT, ALARM_AT = 80.0, 95.0


class Meter(QFrame):
    def __init__(self, title: str) -> None:
        super().__init__()
        self.setObjectName("card")
        row = QHBoxLayout(self)
        row.setContentsMargins(SPACE_L, SPACE_M, SPACE_L, SPACE_M)
        row.setSpacing(SPACE_L)
        column = QVBoxLayout()
        self.title = QLabel(title)
        self.title.setObjectName("meterTitle")
        self.title.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        column.addWidget(self.title)
        column.addWidget(self.bar)
        column.addWidget(self.detail)
        row.addLayout(column, 3)
        self.burn = BurnDownChart()
        self.burn.hide()
        row.addWidget(self.burn, 1)
        self._samples: dict[float, set[tuple[float, float]]] = {}  # readings seen, by the period's reset

    def set_value(self, used_percent: float | None, text: str, detail: str) -> None:
        """``used_percent`` None: unlimited or unknown (an empty bar that says so)."""
        share = max(0.0, min(100.0, used_percent or 0.0))
        self.bar.setValue(round(share * 10))
        self.bar.setFormat(text)
        colour = BAD if share >= ALARM_AT else WARN if share >= WARN_AT else GOOD
        self.bar.setStyleSheet(f"QProgressBar::chunk {{ background-color: {colour}; }}")
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))  # a client key's limit has none: no blank line under its bar

    def set_window(self, reading: QuotaReading) -> None:
        """An account's window as read now: its burn-down, over the readings seen of this period."""
        period = reading["resets_at"] or 0.0
        seen = self._samples.setdefault(period, set())
        self._samples = {period: seen}  # an earlier period's readings are no longer drawn
        self.burn.set_data(burn_down(reading, sorted(seen)))
        seen.add((reading["taken_at"], reading["used_percent"]))
