"""Lines of words to read, each its own wrapped label: a problem or a finding names a path or a fix,
longer than a narrow window is wide, so none is cut off at the window's edge or scrolled to, and a
line wrapped in two still reads as one (the gap between lines is wider than that within one)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class Lines(QWidget):
    """Plain text (a provider's name is never markup), selectable to copy; hidden with no line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(self.fontMetrics().height() // 3)
        self._labels: list[QLabel] = []
        self.hide()

    def set_lines(self, lines: Sequence[str]) -> None:
        """The same lines again (the status comes each second) keep their labels and a selection in them."""
        if list(lines) == self.lines():
            return
        for label in self._labels:
            self._layout.removeWidget(label)
            label.deleteLater()
        self._labels = [_label(line) for line in lines]
        for label in self._labels:
            self._layout.addWidget(label)
        self.setVisible(bool(lines))

    def lines(self) -> list[str]:
        return [label.text() for label in self._labels]


def _label(line: str) -> QLabel:
    label = QLabel(line)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
