"""One quota meter: what it measures, a bar of the share used, and a line on when it resets and
when, at this pace, it would run out."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

WARN, ALARM = 80.0, 95.0


class Meter(QWidget):
    def __init__(self, title: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 8)
        self.title = QLabel(title)
        self.title.setObjectName("meterTitle")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)

    def set_value(self, used_percent: float | None, text: str, detail: str) -> None:
        """``used_percent`` None: unlimited or unknown (an empty bar that says so)."""
        share = max(0.0, min(100.0, used_percent or 0.0))
        self.bar.setValue(round(share * 10))
        self.bar.setFormat(text)
        colour = "#c94040" if share >= ALARM else "#d99a1e" if share >= WARN else "#2e9e5b"
        self.bar.setStyleSheet(f"QProgressBar::chunk {{ background-color: {colour}; }}")
        self.detail.setText(detail)
