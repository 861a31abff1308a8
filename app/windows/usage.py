"""Usage: tokens or dollars over time (by hour or day), the same period by model, provider, client
or tool with what each cost and saved, what subscriptions and local models saved in all, and the
most recent requests, filterable and exported to CSV."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app.viewmodels.charts import Measure, stacked
from app.viewmodels.money import Money, dollars, money_of, money_words, saved
from app.viewmodels.table import Column, field, stamp
from app.windows.page import Context, Page, rows_height, table
from app.windows.widgets.bar_chart import BarChart
from gateway import Control, NamedSpanTotals, NamedTotals, RecentRow, SpanTotals

PERIODS = {"Last 24 hours": (86400, "hour"), "Last 7 days": (7 * 86400, "day"), "Last 30 days": (30 * 86400, "day")}
GROUPS = {"By model": "by-model", "By provider": "by-provider", "By client": "by-caller", "By tool": "by-tool"}
CHARTS: dict[str, Measure] = {"Tokens": "total_tokens", "Spend": "cost"}
GROUP_ROWS = 6  # the most of the period's models (providers…) shown before their table scrolls
THIS_COMPUTER = {"local": "this computer"}  # the ledger's caller for a request from here with no key


def when(at_s: float, now: float | None = None) -> str:
    """A request's time: the clock time alone today (the model's name keeps the room), the day too before."""
    today = time.localtime(time.time() if now is None else now)[:3] == time.localtime(at_s)[:3]
    return stamp(at_s, "%H:%M:%S" if today else "%m-%d %H:%M")


def recent_columns(client: Callable[[str], str]) -> list[Column[RecentRow]]:
    """The recent requests' columns; ``client``: who a caller (a client key's id) is, in words."""
    return [
        Column("When", lambda r: when(r["at_s"])),
        field("Model", "model"),
        field("Provider", "provider"),
        Column("Used by", lambda r: client(r["caller"])),
        field("Tokens in", "prompt", True),
        field("Tokens out", "completion", True),
        Column("Cost", lambda r: dollars(r["cost"]), True),
        Column("Result", lambda r: "OK" if r["status"] < 400 else f"Error {r['status']}"),
        Column(
            "Time",
            lambda r: f"{r['latency_ms'] / 1000:.1f} s" if r["latency_ms"] >= 1000 else f"{r['latency_ms']:.0f} ms",
            True,
        ),
    ]


@dataclass(frozen=True, slots=True)
class Report:
    series: list[tuple[float, float]]  # (bucket start, tokens), seconds since the epoch
    groups: list[NamedTotals]
    recent: list[RecentRow]
    bucket: str
    by_provider: list[NamedSpanTotals]  # the chart's stacks
    money: Money  # the period's spend and savings
    group: str  # what ``groups`` are by (a view of the ledger: by-model, by-caller…)
    clients: dict[str, str]  # who each caller is, in words: a client key's label by its id


def filled(rows: list[SpanTotals], since: float, until: float, bucket: str) -> list[tuple[float, float]]:
    """(bucket start, tokens) for every bucket of the period, empty ones included."""
    size = 3600 if bucket == "hour" else 86400
    tokens = {r["start_s"]: float(r["total_tokens"]) for r in rows}
    first = int(since // size) * size
    return [(start, tokens.get(start, 0.0)) for start in range(first, int(until) + 1, size)]


async def report(control: Control, span: float, bucket: str, group: str) -> Report:
    until = time.time()
    since = until - span
    series = await control.usage_over_time(since, bucket)
    keys = control.keys()
    return Report(
        filled(series, since, until, bucket),
        await control.usage_by(group, since),
        await control.recent_requests(),
        bucket,
        await control.usage_over_time_by("by-provider", since, bucket),
        money_of(series),
        group,
        THIS_COMPUTER | {key["id"]: key["label"] for key in keys if key["label"]},
    )


class UsagePage(Page):
    title = "Usage"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        row = QHBoxLayout()
        self.period = QComboBox()
        self.period.addItems(list(PERIODS))
        self.group = QComboBox()
        self.group.addItems(list(GROUPS))
        self.measure = QComboBox()
        self.measure.addItems(list(CHARTS))
        self.measure.setAccessibleName("Chart")
        for box in (self.period, self.group, self.measure):
            box.currentIndexChanged.connect(self.shown)
            row.addWidget(box)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.money = QLabel()  # spent, and saved by subscriptions and local models
        self.money.setWordWrap(True)
        self.layout_.addWidget(self.money)
        self.chart_title = QLabel("Tokens by provider")
        self.layout_.addWidget(self.chart_title)
        self.chart = BarChart()
        self.layout_.addWidget(self.chart, 1)
        self.clients: dict[str, str] = {}
        self.grouped_by = ""
        groups: list[Column[NamedTotals]] = [
            Column("Name", lambda r: self.client(r["name"]) if self.grouped_by == "by-caller" else r["name"]),
            field("Requests", "requests", True),
            field("Tokens in", "prompt_tokens", True),
            field("Tokens out", "completion_tokens", True),
            field("Total", "total_tokens", True),
            Column("Spend", lambda r: dollars(r["cost"]), True),
            Column("Saved", lambda r: dollars(saved(r)), True),
        ]
        self.groups_view, self.groups = table(groups, stretch=0)
        self.layout_.addWidget(self.groups_view)
        self.recent_tools = QWidget()  # hidden with the table while there are no requests: no empty box
        tools = QHBoxLayout(self.recent_tools)
        tools.setContentsMargins(0, 0, 0, 0)
        tools.addWidget(QLabel("Recent requests"))
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: model, provider, client, status")
        tools.addWidget(self.filter, 1)
        export = QPushButton("Export CSV…")
        export.clicked.connect(self.export)
        tools.addWidget(export)
        self.layout_.addWidget(self.recent_tools)
        self.recent_view, self.recent = table(recent_columns(self.client), stretch=1)
        self.proxy = QSortFilterProxyModel()
        self.proxy.setSourceModel(self.recent)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.recent_view.setModel(self.proxy)
        self.layout_.addWidget(self.recent_view, 2)

    def shown(self) -> None:
        span, bucket = PERIODS[self.period.currentText()]
        group = GROUPS[self.group.currentText()]
        self.ask(lambda control: report(control, span, bucket, group), self._show)

    def _show(self, found: Report) -> None:
        fmt = "%H:%M" if found.bucket == "hour" else "%m-%d"
        labels = [time.strftime(fmt, time.localtime(start)) for start, _ in found.series]
        measure = CHARTS[self.measure.currentText()]
        starts = [start for start, _ in found.series]
        self.chart.set_stacks(labels, stacked(found.by_provider, starts, measure), money=measure == "cost")
        each = "hour" if found.bucket == "hour" else "day"
        self.chart_title.setText(f"Dollars per {each}, by provider" if measure == "cost" else "Tokens by provider")
        self.money.setText(money_words(found.money))
        self.clients, self.grouped_by = found.clients, found.group
        self.groups.set_rows(found.groups)  # as tall as its rows, to a few: no row cut in half, no empty box
        self.groups_view.setFixedHeight(rows_height(self.groups_view, max(1, min(len(found.groups), GROUP_ROWS))))
        self.groups_view.setVisible(bool(found.groups))  # none: the chart says there were no requests
        self.recent.set_rows(found.recent)
        self.recent_tools.setVisible(bool(found.recent))
        self.recent_view.setVisible(bool(found.recent))

    def client(self, caller: str) -> str:
        """Who made a request: its client key's label, "this computer" with no key, else the key's id."""
        return self.clients.get(caller, caller)

    def export(self) -> None:
        """Ask where, then write the recent requests there. It takes no argument: a button's
        ``clicked`` would hand an optional one its ``checked`` flag."""
        path, _ = QFileDialog.getSaveFileName(
            self, "Export recent requests", "switchboard-usage.csv", "CSV files (*.csv)"
        )
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        """The recent requests as shown (filter applied), to a CSV file written on a worker thread."""
        shown = [self.proxy.mapToSource(self.proxy.index(n, 0)).row() for n in range(self.proxy.rowCount())]
        rows = [self.recent.rows[n] for n in shown]
        keys = list(self.recent.rows[0]) if self.recent.rows else list(RecentRow.__annotations__)

        def write() -> None:
            with Path(path).open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, keys)
                writer.writeheader()
                writer.writerows(rows)

        self.context.tasks.run_blocking(
            write,
            lambda _: self.say(f"Wrote {len(rows)} request(s) to {path}."),
            lambda _: self.say(
                f"Could not write {path}: check that its folder exists and that you may write there.", error=True
            ),
            self,
        )
