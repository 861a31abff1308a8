"""Overview: is it serving, where, how much today, the busiest models, and what needs attention."""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton

from app.theme import STATUS
from app.viewmodels.health import health_of
from app.viewmodels.table import field
from app.windows.lines import Lines
from app.windows.page import Context, Page, fit_rows, table
from app.windows.providers import ProvidersPage
from gateway import Finding, StatusDocument

NO_MODELS = "There are no models yet: add a provider, or start a local model server such as Ollama."
NO_PROBLEMS = "None: everything answers."
MARKS = {"ok": "✓", "note": "•", "broken": "✗"}


def finding_line(finding: Finding) -> str:
    """One finding of Check everything: its mark, what was found and what would help, in words."""
    return " ".join(part for part in (MARKS[finding["verdict"]], finding["words"], finding["advice"]) if part)


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("meterTitle")  # bold, as a card's title
    return label


class OverviewPage(Page):
    title = "Overview"
    shows_failures = True  # the first page: a gateway that could not start says why here, with its fix

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.state = QLabel("Starting…")
        self.state.setObjectName("big")
        self.dot = QLabel("●")
        self.dot.setObjectName("big")
        state_row = QHBoxLayout()
        state_row.addWidget(self.dot)
        state_row.addWidget(self.state, 1)
        self.layout_.addLayout(state_row)

        row = QHBoxLayout()
        row.addWidget(QLabel("Address for your tools:"))
        self.address = QLineEdit()
        self.address.setReadOnly(True)
        row.addWidget(self.address, 1)
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: self.context.copy(self.address.text()))
        row.addWidget(copy)
        self.layout_.addLayout(row)

        figures = QGridLayout()
        self.requests = QLabel("–")
        self.tokens = QLabel("–")
        for column, (label, value) in enumerate((("Requests today", self.requests), ("Tokens today", self.tokens))):
            value.setObjectName("figure")
            figures.addWidget(QLabel(label), 0, column)
            figures.addWidget(value, 1, column)
        self.layout_.addLayout(figures)

        # The lists are as tall as what they hold (the page scrolls), not boxes mostly empty.
        self.layout_.addWidget(_section("Top models today"))
        self.models_view, self.models = table(
            [field("Model", "name"), field("Requests", "requests", True), field("Tokens", "total_tokens", True)],
            stretch=0,
        )
        self.layout_.addWidget(self.models_view)
        self.no_requests = QLabel("No requests yet today.")
        self.no_requests.setObjectName("muted")
        self.layout_.addWidget(self.no_requests)
        self.layout_.addWidget(_section("Problems"))
        self.problems = Lines()  # what needs attention, a line each, wrapped
        self.layout_.addWidget(self.problems)
        self.add_provider = QPushButton("Add a provider")
        self.add_provider.clicked.connect(lambda: self.go_to(ProvidersPage.title))
        self.add_provider.hide()
        self.check = QPushButton("Check everything")
        self.check.clicked.connect(self.check_everything)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_provider)
        add_row.addWidget(self.check)
        add_row.addStretch(1)
        self.layout_.addLayout(add_row)
        self.findings = Lines()  # what Check everything found, a line each, wrapped
        self.layout_.addWidget(self.findings)
        self.layout_.addStretch(1)

    def check_everything(self) -> None:
        """Every provider, rule, account, the port and the secrets, asked now (it takes seconds)."""
        address = urlsplit(self.context.host.url)
        where = (address.hostname or "127.0.0.1", address.port or 0)
        self.check.setEnabled(False)
        self.check.setText("Checking…")

        def found(findings: list[Finding]) -> None:
            self.findings.set_lines([finding_line(f) for f in findings])
            self.checked()

        def failed(message: str) -> None:
            self.checked()
            self.say(message, error=True)

        self.ask(lambda control: control.doctor(where), found, failed)

    def checked(self) -> None:
        self.check.setEnabled(True)
        self.check.setText("Check everything")

    def show_status(self, status: StatusDocument | None) -> None:
        host = self.context.host
        # Why it could not start is said once, above, with its fix: not again as the state and a problem.
        said = self._showing_failure and not host.serving
        health = health_of(status, running=host.serving, paused=host.paused, error="" if said else host.error)
        self.state.setText(health.summary)
        for coloured in (self.dot, self.state):  # in the tray icon's colour for that state
            coloured.setStyleSheet(f"color: {STATUS[health.state]};")
        self.address.setText(host.url)
        today = status.get("today") if status is not None else None
        self.requests.setText(f"{today['requests']:,}" if today else "–")
        self.tokens.setText(f"{today['tokens']:,}" if today else "–")
        self.models.set_rows(today["models"] if today else [])
        fit_rows(self.models_view, self.models.rowCount())
        self.no_requests.setVisible(not self.models.rowCount())
        # Serving, but no provider lists a model (nor is there one to list them): nothing to ask yet.
        empty = status is not None and not sum(provider["models"] for provider in status["providers"])
        # Stopped, it is said above; else what needs attention, or that nothing does.
        problems = list(health.problems) + ([NO_MODELS] if empty else []) or [NO_PROBLEMS]
        self.problems.set_lines([] if said else problems)
        self.add_provider.setVisible(empty)
