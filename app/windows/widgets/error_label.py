"""The line a dialog says a refusal on: red, wrapped, and hidden until there is something to say."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from app.colours import BAD


def error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(f"color: {BAD};")
    label.setWordWrap(True)
    label.hide()
    return label
