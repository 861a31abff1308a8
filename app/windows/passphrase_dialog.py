"""The two fixes for saved keys the gateway could not open, as Settings makes them: the passphrase
of the encrypted secrets file, asked for when Switchboard was started without it; and a secrets
file that cannot be read, set aside (kept, never deleted) so that the gateway starts with new ones."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QMessageBox, QVBoxLayout

from app.colours import BAD
from app.windows.confirm import confirm
from app.windows.page import Page
from app.words import Said
from gateway import Fix

UNLOCK = Fix("unlock_secrets")


class PassphraseDialog(QDialog):
    """Asks for the passphrase (never shown as typed), checks it on a worker thread (it is hashed,
    which takes a moment), and says a wrong one here, where it can be typed again. The right one
    starts the gateway; the page says so. The passphrase is kept by the gateway's setup, in memory,
    until Switchboard quits."""

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.page = page
        self.setWindowTitle("Unlock the saved keys")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        lead = QLabel(
            "Switchboard keeps its keys and sign-ins encrypted with a passphrase, and was started without it. "
            "Enter it to start the gateway; it is kept only until Switchboard quits."
        )
        lead.setWordWrap(True)
        layout.addWidget(lead)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Passphrase")
        self.passphrase.setPlaceholderText("the passphrase")
        layout.addWidget(self.passphrase)
        self.outcome = QLabel()  # checking, or why it was refused
        self.outcome.setWordWrap(True)
        self.outcome.hide()
        layout.addWidget(self.outcome)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.unlock_button = buttons.addButton("Unlock", QDialogButtonBox.ButtonRole.AcceptRole)
        self.unlock_button.setEnabled(False)
        self.unlock_button.setDefault(True)
        buttons.accepted.connect(self.unlock)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.passphrase.textChanged.connect(lambda text: self.unlock_button.setEnabled(bool(text)))

    def unlock(self) -> None:
        passphrase = self.passphrase.text()
        if not passphrase:
            return
        self.unlock_button.setEnabled(False)
        self.passphrase.setEnabled(False)
        self._say("Checking the passphrase…")
        setup = self.page.context.setup
        self.page.context.tasks.run_blocking(lambda: setup.unlock(passphrase), self._opened, self._refused, self)

    def _opened(self, _: None) -> None:
        page = self.page
        self.accept()
        page.say_done("The passphrase opens the saved keys.", False, lambda: "The gateway runs with them.")
        page.context.reconfigure()

    def _refused(self, message: str) -> None:
        fix = message.fix if isinstance(message, Said) else None
        if fix != UNLOCK:  # not the passphrase but the file: the page says it, with its own fix
            self.reject()
            self.page.say(message, error=True)
            return
        self.passphrase.setEnabled(True)
        self.passphrase.selectAll()
        self.passphrase.setFocus()
        self._say(f"{message} Check it and try again.", error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.outcome.setText(text)
        self.outcome.setStyleSheet(f"color: {BAD};" if error else "")
        self.outcome.show()

    def done(self, result: int) -> None:
        self.passphrase.clear()  # not left in a widget once the dialog closes
        super().done(result)


def set_aside_secrets(page: Page) -> QMessageBox:
    """Ask first, naming what stops working; then set the unreadable file aside and start the
    gateway with new, empty secrets. The question is returned so a test can press its buttons."""

    def set_aside() -> None:
        def done(kept: Path | None) -> None:
            if kept is None:  # it opens now (put back meanwhile): nothing was moved
                page.say_done("The secrets file can be read again; nothing was set aside.", False)
            else:
                page.say_done(
                    f"The unreadable file is kept as “{kept.name}” beside it.",
                    False,
                    lambda: (
                        "The gateway runs with new, empty secrets: client keys, stored provider keys, "
                        "sign-ins and the admin password need setting again."
                    ),
                )
            page.context.reconfigure()

        page.context.tasks.run_blocking(
            page.context.setup.set_aside_secrets, done, lambda m: page.say(m, error=True), page
        )

    return confirm(
        page,
        "Set the unreadable secrets file aside?",
        "Switchboard then starts with new, empty secrets: the client keys, stored provider keys, sign-ins and "
        "admin password kept in that file are no longer used, and programs using those client keys are refused "
        "until they are given new ones. The file itself is kept beside it, renamed, in case it can be restored.",
        set_aside,
        act="Set aside",
    )
