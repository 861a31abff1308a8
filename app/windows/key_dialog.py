"""Client keys in dialogs: a new one's label and optional dollar budgets, asked first; an existing
key's budgets changed; then the key, shown the one time it can be, selectable, with a copy button."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.windows.widgets.error_label import error_label

Budgets = dict[str, float]  # limit name (dollars_per_day, dollars_per_month) -> dollars
MOST = 1e9  # dollars: the gateway takes no bigger budget (and none is meant)
BUDGET_FIELDS = (("dollars_per_day", "Budget per &day ($)"), ("dollars_per_month", "Budget per &month ($)"))


def budget(text: str) -> float | None:
    """An amount of dollars as a person types it ("5", "$2.50", "1,000"); None when left empty.
    ValueError for anything else (a budget over a billion dollars too)."""
    cleaned = text.strip().removeprefix("$").replace(",", "").strip()
    if not cleaned:
        return None
    amount = float(cleaned)
    if not math.isfinite(amount) or not 0 <= amount <= MOST:
        raise ValueError(text)
    return amount


def budgets_text(limits: Mapping[str, float]) -> str:
    """A key's budgets as its row in the list says them: "$5.00 a day, $50.00 a month"; "none"."""
    per = {"dollars_per_day": "a day", "dollars_per_month": "a month"}
    said = [f"${limits[name]:,.2f} {words}" for name, words in per.items() if name in limits]
    return ", ".join(said) or "none"


class BudgetsDialog(QDialog):
    """A key's budget fields under ``rows`` (a new key's label), what a budget does, and where what
    does not make sense is said. ``take`` gets the budgets once they are amounts, and says whether
    the dialog is done (else it has said why not and stays open)."""

    def __init__(
        self,
        title: str,
        act: str,
        rows: list[tuple[str, QWidget]],
        limits: Mapping[str, float],
        take: Callable[[Budgets], bool],
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent)
        self._take = take
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        for label, widget in rows:
            form.addRow(label, widget)
        self.budgets: dict[str, QLineEdit] = {}
        for name, field_title in BUDGET_FIELDS:
            field = self.budgets[name] = QLineEdit(f"{limits[name]:.2f}" if name in limits else "")
            field.setPlaceholderText("optional — no budget")
            form.addRow(field_title, field)
        layout.addLayout(form)
        about = QLabel(
            "Once a budget is spent, requests with this key are refused until it frees up. "
            "A month is the last 30 days: money spent frees up as it turns 30 days old."
        )
        about.setObjectName("muted")
        about.setWordWrap(True)
        layout.addWidget(about)
        self.error = error_label()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(act)
        buttons.accepted.connect(self.done_typing)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)

    def done_typing(self) -> None:
        """Act if what was typed makes sense; else say what does not, and stay open."""
        budgets: Budgets = {}
        for name, title in BUDGET_FIELDS:
            try:
                amount = budget(self.budgets[name].text())
            except ValueError:
                words = title.replace("&", "").replace(" ($)", "").lower()
                self.say(f"The {words} is not an amount of dollars: write it like 5 or 2.50, or leave it empty.")
                return
            if amount is not None:
                budgets[name] = amount
        if self._take(budgets):
            self.accept()

    def say(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class NewKeyDialog(BudgetsDialog):
    """Who or what a new key is for, and what it may spend; ``create`` gets the label and budgets."""

    def __init__(self, create: Callable[[str, Budgets], None], parent: QWidget | None = None) -> None:
        self.label = QLineEdit()
        self.label.setPlaceholderText("e.g. laptop, build server")
        rows: list[tuple[str, QWidget]] = [("&Who or what will use it", self.label)]
        super().__init__("New client key", "Create key", rows, {}, self._made, parent)
        self._create = create

    def _made(self, budgets: Budgets) -> bool:
        label = self.label.text().strip()
        if not label:
            self.say("Give the key a label: who or what will use it.")
            return False
        self._create(label, budgets)
        return True


class ChangeBudgetDialog(BudgetsDialog):
    """A key's budgets as they are, to change; ``change`` gets the new ones (none: no budget)."""

    def __init__(
        self, label: str, limits: Mapping[str, float], change: Callable[[Budgets], None], parent: QWidget | None = None
    ) -> None:
        rows: list[tuple[str, QWidget]] = [("Client key", QLabel(label))]
        super().__init__(f"Budget of {label}", "Change budget", rows, limits, self._changed, parent)
        self._change = change

    def _changed(self, budgets: Budgets) -> bool:
        self._change(budgets)
        return True


class KeyDialog(QDialog):
    def __init__(self, key: str, label: str, copy: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Client key {label}")
        layout = QVBoxLayout(self)
        warning = QLabel(
            "This is the only time the whole key is shown. Copy it into the program that will use "
            "it now; if it is lost, revoke it and create another."
        )
        warning.setWordWrap(True)
        layout.addWidget(warning)
        row = QHBoxLayout()
        self.key = QLineEdit(key)
        self.key.setReadOnly(True)
        self.key.setMinimumWidth(self.key.fontMetrics().horizontalAdvance(key) + 24)
        row.addWidget(self.key, 1)
        copy_button = QPushButton("Copy")
        copy_button.clicked.connect(lambda: copy(key))
        row.addWidget(copy_button)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.key.selectAll()
