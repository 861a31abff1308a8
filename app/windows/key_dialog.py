"""A new client key, shown the one time it can be: selectable, with a copy button."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


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
