"""One model rule, added or changed: the name or pattern it answers (``coding``, ``claude-*``) and
the models it sends to, tried in order. The dialog is opened, not executed, so the page goes on
meanwhile; ``save(rule)`` is called when it is saved (the page says how the gateway took it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.windows.widgets.error_label import error_label
from gateway import RuleDoc, rule_doc


class RuleDialog(QDialog):
    def __init__(
        self, rule: RuleDoc | None, choices: Sequence[str], save: Callable[[RuleDoc], None], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change the rule" if rule is not None else "Add a rule")
        self.setMinimumWidth(480)
        self._save = save
        layout = QVBoxLayout(self)
        lead = QLabel(
            "A rule sends the requests for a name to the models you choose, the first one first and "
            "the next when it cannot answer. A name with * matches many: claude-* matches every Claude model."
        )
        lead.setWordWrap(True)
        layout.addWidget(lead)
        form = QFormLayout()
        self.name = QLineEdit(rule["name"] if rule is not None else "")
        self.name.setPlaceholderText("e.g. coding, or claude-*")
        form.addRow("&Name or pattern", self.name)
        self.routes = QListWidget()
        self.routes.addItems(rule["routes"] if rule is not None else [])
        self.routes.setMaximumHeight(self.fontMetrics().lineSpacing() * 6)
        form.addRow("&Sends to", self.routes)
        self.choice = QComboBox()
        self.choice.setEditable(True)  # a model a provider lists that is not listed yet may be typed
        self.choice.addItems(list(choices))
        self.choice.setAccessibleName("Model to add")
        add, remove = QPushButton("Add model"), QPushButton("Remove model")
        add.clicked.connect(lambda: self.add_route())
        remove.clicked.connect(lambda: self.routes.takeItem(self.routes.currentRow()))
        row = QHBoxLayout()
        row.addWidget(self.choice, 1)
        row.addWidget(add)
        row.addWidget(remove)
        form.addRow("", row)
        layout.addLayout(form)
        self.said = error_label()
        layout.addWidget(self.said)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def add_route(self) -> None:
        route = self.choice.currentText().strip()
        if route and route not in self.chosen():
            self.routes.addItem(route)

    def chosen(self) -> list[str]:
        return [self.routes.item(n).text() for n in range(self.routes.count())]

    def accept(self) -> None:
        if not self.name.text().strip():
            self._refuse("Give the rule a name, or a pattern such as claude-*.")
            return
        if not self.chosen():
            self.add_route()  # the model showed in the box is the one meant
        if not self.chosen():
            self._refuse("Choose a model for it to send to.")
            return
        self._save(rule_doc(self.name.text().strip(), self.chosen()))
        super().accept()

    def _refuse(self, words: str) -> None:
        self.said.setText(words)
        self.said.show()
