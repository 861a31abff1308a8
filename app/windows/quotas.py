"""Quotas: a meter for each window of each subscription account and API key (Copilot's premium,
chat and completions; Codex's 5-hour and weekly; rate limits), and for each client key's limits."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.viewmodels.meters import meters
from app.windows.page import Context, Page
from app.windows.widgets.meter import Meter
from gateway import StatusDocument


class QuotasPage(Page):
    title = "Quotas"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        row = QHBoxLayout()
        self.empty = QLabel(
            "No quota seen yet: windows appear once an account is connected or a provider reports its limits."
        )
        self.empty.setWordWrap(True)
        row.addWidget(self.empty, 1)
        row.addStretch(0)
        refresh = QPushButton("Ask the accounts now")
        refresh.clicked.connect(self.ask_now)
        row.addWidget(refresh)
        self.layout_.addLayout(row)
        # The meters in the page's own column (the page scrolls): no framed box, empty or not.
        self.body = QWidget()
        self.list = QVBoxLayout(self.body)
        self.list.setContentsMargins(0, 0, 0, 0)
        self.layout_.addWidget(self.body)
        self.layout_.addStretch(1)
        self.meters: dict[str, Meter] = {}

    def show_status(self, status: StatusDocument | None) -> None:
        found = meters(status)
        keys = [m.key for m in found]
        if keys != list(self.meters):
            for meter in self.meters.values():
                meter.deleteLater()
            self.meters = {}
            for data in found:
                meter = Meter(data.title)
                self.list.addWidget(meter)
                self.meters[data.key] = meter
        for data in found:
            self.meters[data.key].set_value(data.used_percent, data.text, data.detail)
        for window in status.get("quota", []) if status else []:  # each account window's burn-down
            if (shown := self.meters.get(f"{window['label']}/{window['window']}")) is not None:
                shown.set_window(window)
        self.empty.setVisible(not found)
        self.body.setVisible(bool(found))

    def ask_now(self) -> None:
        self.say("Asking each account for its usage…")

        def done(_: object) -> None:
            self.say("Up to date.")
            self.context.refresh()

        self.ask(lambda control: control.refresh_quota(), done)
