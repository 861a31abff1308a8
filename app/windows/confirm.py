"""Asking before a destructive action, the same way on every page: the question, what will stop
working once it is done, and a button named for the action (never a bare "Yes"), Cancel by default."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget


def confirm(
    parent: QWidget, title: str, what_stops: str, then: Callable[[], None], *, act: str = "Remove"
) -> QMessageBox:
    """Ask ``title`` ("Revoke the key 'laptop'?"), saying ``what_stops`` ("Programs using it are
    refused from then on."); ``then()`` runs only when the ``act`` button is pressed. The box is
    window-modal but opened, not executed, so the gateway's answers and repaints go on meanwhile;
    it is returned so a test can press its buttons."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, title, QMessageBox.StandardButton.NoButton, parent)
    box.setInformativeText(what_stops)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    action = box.addButton(act, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)

    def pressed(button: QAbstractButton) -> None:
        if button is action:
            then()

    box.buttonClicked.connect(pressed)
    box.open()
    return box
