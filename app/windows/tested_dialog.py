"""A form whose settings are tried before they are saved, the same for a provider's key and for a
server of one's own: "Test and save" asks the provider for its models; when it answers, the
settings are saved and the dialog closes; when not, it says why in words (the gateway's own message
one click away under Details) and offers "Save anyway" or "Don't save"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.viewmodels.provider_state import FAILING, TONE_COLOURS, failure_words
from gateway import ProviderTest

V = TypeVar("V")
Answered = Callable[[ProviderTest], None]
Refused = Callable[[str], None]
Trial = Callable[[V, Answered, Refused], None]  # ask the gateway; one of the two is called on the Qt thread


class TestedDialog(QDialog, Generic[V]):
    """``trial(values, answered, refused)`` tries the settings; ``save(values)`` keeps them (the page
    says how that went). Subclasses fill ``form`` and give ``values()``, ``name()`` and ``where()``."""

    def __init__(self, title: str, intro: str, trial: Trial[V], save: Callable[[V], None], parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self._trial = trial
        self._save = save
        self._tried: V | None = None
        layout = QVBoxLayout(self)
        lead = QLabel(intro)
        lead.setWordWrap(True)
        layout.addWidget(lead)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        self.outcome = QLabel()  # how the test went, in words
        self.outcome.setWordWrap(True)
        self.outcome.hide()
        layout.addWidget(self.outcome)
        self.details = QLabel()  # the gateway's own message, copyable
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        layout.addWidget(self.details)
        row = QHBoxLayout()
        self.details_button = QPushButton("Details")
        self.details_button.clicked.connect(lambda: self._toggle_details())
        self.details_button.hide()
        row.addWidget(self.details_button)
        row.addStretch(1)
        self.save_anyway = QPushButton("Save anyway")
        self.save_anyway.clicked.connect(lambda: self._keep(self._tried))
        self.save_anyway.hide()
        row.addWidget(self.save_anyway)
        self.test_button = QPushButton("Test and save")
        self.test_button.setDefault(True)
        self.test_button.clicked.connect(lambda: self.test())
        row.addWidget(self.test_button)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.reject)
        row.addWidget(self.cancel)
        layout.addLayout(row)

    def values(self) -> V | None:
        """The settings in the form; None (having said what is missing) when they are not complete."""
        raise NotImplementedError

    def name(self) -> str:
        """The provider's name, for the words of a failed test."""
        raise NotImplementedError

    def where(self) -> str:
        """The host asked, for the words of a failed test."""
        raise NotImplementedError

    def say(self, text: str, *, error: bool = False) -> None:
        self.outcome.setText(text)
        self.outcome.setStyleSheet(f"color: {TONE_COLOURS[FAILING]};" if error else "")
        self.outcome.setVisible(bool(text))
        self._grown()

    def _toggle_details(self) -> None:
        self.details.setVisible(self.details.isHidden())
        self._grown()

    def _grown(self) -> None:
        """Taller (never narrower) for what was shown: its fields are not squeezed."""
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def test(self) -> None:
        values = self.values()
        if values is None:
            return
        self._tried = values
        self._busy(True)
        self.details.hide()
        self.details_button.hide()
        self.say(f"Asking {self.name()} for its models…")
        self._trial(values, lambda result: self._answered(values, result), self._refused)

    def _busy(self, busy: bool) -> None:
        self.test_button.setEnabled(not busy)
        self.save_anyway.hide()
        self.cancel.setText("Cancel")

    def _answered(self, values: V, result: ProviderTest) -> None:
        self._busy(False)
        if result["ok"]:
            self.say(f"{self.name()} answers with {result['models']} models.")
            self._keep(values)
            return
        self.say(f"{failure_words(result['reason'], self.name(), self.where())}. Save it anyway?", error=True)
        self.details.setText(result["error"] or "")
        self.details_button.setVisible(bool(result["error"]))
        self.test_button.setText("Test again")
        self.save_anyway.show()
        self.cancel.setText("Don't save")
        self._grown()

    def _refused(self, message: str) -> None:
        """The gateway would not try them (an address that cannot be used, a key with spaces)."""
        self._busy(False)
        self.say(message, error=True)

    def _keep(self, values: V | None) -> None:
        if values is not None:
            self._save(values)
            self.accept()


def field_row(form: QFormLayout, label: str, widget: QWidget) -> None:
    """A labelled field, the label a buddy for keyboard users (Alt + its letter)."""
    text = QLabel(label)
    text.setBuddy(widget)
    form.addRow(text, widget)
