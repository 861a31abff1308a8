"""Audit: the tamper-evident log of what was done, in words and filterable, the chosen entry as
written under Details (copyable), with "Verify chain" saying plainly whether any entry was changed,
removed or added since it was written."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton

from app.colours import BAD, GOOD
from app.viewmodels.audit_words import AuditLine, audit_lines
from app.viewmodels.table import Column, field, stamp
from app.windows.page import Context, Page, table
from gateway import AuditEntry, Control, StatusDocument, VerdictDoc

PAGE = 1000
MOST = 20_000  # events loaded at most (the newest)


async def all_events(control: Control) -> list[AuditEntry]:
    events: list[AuditEntry] = []
    while True:
        batch = await control.audit_events(events[-1]["seq"] if events else 0, PAGE)
        events.extend(batch)
        if len(batch) < PAGE:
            return events[-MOST:][::-1]  # newest first
        events = events[-MOST:]


def verdict_text(verdict: VerdictDoc) -> tuple[str, bool]:
    if verdict["ok"]:
        return f"The chain is intact: all {verdict['checked']:,} entries are as they were written.", True
    where = f" at entry {verdict['first_bad']}" if verdict["first_bad"] else ""
    return f"The chain is broken{where}: {verdict['reason']}. The log was changed after it was written.", False


class AuditPage(Page):
    title = "Audit log"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        row = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: what happened, who, or details")
        row.addWidget(self.filter, 1)
        reload_button = QPushButton("Reload")
        reload_button.clicked.connect(self.shown)
        row.addWidget(reload_button)
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.clicked.connect(self.verify)
        row.addWidget(self.verify_button)
        self.layout_.addLayout(row)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.layout_.addWidget(self.verdict)
        columns: list[Column[AuditLine]] = [
            field("#", "seq", True),
            Column("When", lambda r: stamp(r["ts_ms"] / 1000)),
            field("Who", "who"),
            field("What happened", "what"),
            field("Details", "details"),  # hidden: there for the filter
        ]
        self.view, self.model = table(columns)
        self.proxy = QSortFilterProxyModel()
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view.setModel(self.proxy)
        self.view.setColumnHidden(len(columns) - 1, True)
        self.view.selectionModel().currentRowChanged.connect(self._chosen)
        self.layout_.addWidget(self.view, 3)
        details_row = QHBoxLayout()
        details_row.addWidget(QLabel("Details"))
        details_row.addStretch(1)
        copy = QPushButton("Copy")
        copy.clicked.connect(self.copy_entry)
        details_row.addWidget(copy)
        self.layout_.addLayout(details_row)
        self.entry = QPlainTextEdit()
        self.entry.setReadOnly(True)
        self.entry.setPlaceholderText("Choose an entry to see it as it was written.")
        self.layout_.addWidget(self.entry, 1)
        self._providers: dict[str, str] = {}  # provider id -> name, from the status

    def show_status(self, status: StatusDocument | None) -> None:
        if status is not None:
            self._providers = {p["id"]: p["name"] for p in status["providers"]}

    def shown(self) -> None:
        self.ask(all_events, lambda events: self.model.set_rows(audit_lines(events, self._providers)))

    def _chosen(self) -> None:
        index = self.proxy.mapToSource(self.view.currentIndex())
        self.entry.setPlainText(self.model.rows[index.row()]["details"] if index.isValid() else "")

    def copy_entry(self) -> None:
        if text := self.entry.toPlainText():
            self.context.copy(text)
            self.say("Copied the entry's details.")

    def verify(self) -> None:
        self.verdict.setText("Checking every entry…")
        self.ask(lambda control: control.audit_verify(), self._verdict)

    def _verdict(self, verdict: VerdictDoc) -> None:
        text, ok = verdict_text(verdict)
        self.verdict.setText(text)
        self.verdict.setStyleSheet(f"color: {GOOD};" if ok else f"color: {BAD}; font-weight: bold;")
