"""Paste a provider's key (and, only if one was given, an address) and test it, in one dialog:
either may go in either field, or both in one; the test runs before anything is saved."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from app.viewmodels.providers import Card, host_of, sort_pasted
from app.windows.tested_dialog import TestedDialog, Trial, field_row

KeyAndAddress = tuple[str, str]


class ProviderKeyDialog(TestedDialog[KeyAndAddress]):
    def __init__(
        self,
        card: Card,
        trial: Trial[KeyAndAddress],
        save: Callable[[KeyAndAddress], None],
        open_url: Callable[[str], object],
        parent: QWidget,
    ) -> None:
        super().__init__(
            f"Key for {card.name}",
            f"Paste the API key {card.name} gave you. An address is needed only if you were given one "
            "(a company proxy, another region); either may go in either box.",
            trial,
            save,
            parent,
        )
        self.card = card
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("the key")
        field_row(self.form, "&Key", self.key)
        self.address = QLineEdit()
        self.address.setPlaceholderText(f"optional — now {card.address}" if card.address else "optional")
        field_row(self.form, "&Address", self.address)
        if card.key_page:
            page = card.key_page
            link = QLabel(f'No key yet? <a href="{page}">Get one from {card.name}</a> (opens your browser).')
            link.linkActivated.connect(lambda _url: open_url(page))
            self.form.addRow(link)

    def values(self) -> KeyAndAddress | None:
        key, address = sort_pasted(self.key.text(), self.address.text())
        if not key:
            self.say("Paste the key first.", error=True)
            return None
        return key, address

    def name(self) -> str:
        return self.card.name

    def where(self) -> str:
        _, address = sort_pasted(self.key.text(), self.address.text())
        return host_of(address or self.card.address)
