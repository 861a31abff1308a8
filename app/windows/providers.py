"""Providers: a card per hosted provider and per server added here, with its state in words (the
words the overview and the tray use, from the same status), where its key comes from, "Get a key",
a key pasted and tested in one dialog, and "Add a server" for any OpenAI-compatible,
Anthropic-compatible or Ollama server. Keys go to the secret store through the admin door; removing
one asks first. (Local servers found on this computer have a page of their own.)"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog, QHBoxLayout, QInputDialog, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from app.viewmodels.providers import Card, cards, removal_words
from app.windows.confirm import confirm
from app.windows.network_settings import ConnectionDialog
from app.windows.page import ACTOR, Context, Edited, Page
from app.windows.provider_card import CardActions, ProviderCard
from app.windows.provider_key_dialog import KeyAndAddress, ProviderKeyDialog
from app.windows.server_dialog import ServerDialog
from app.windows.tested_dialog import Answered, Refused
from gateway import (
    Control,
    Fix,
    KeyChange,
    ProviderRow,
    ProviderStatus,
    ProviderTest,
    ServerAdded,
    ServerDefinition,
    StatusDocument,
)


class ProvidersPage(Page):
    title = "Providers and keys"
    fixes = Page.fixes | {"store_key"}

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        lead = QLabel(
            "The services whose models Switchboard offers. Add a key to use one, or add a server of your own."
        )
        lead.setWordWrap(True)
        self.layout_.addWidget(lead)
        row = QHBoxLayout()
        add = QPushButton("Add a server…")
        add.clicked.connect(lambda: self.add_server())
        row.addWidget(add)
        row.addStretch(1)
        self.layout_.addLayout(row)
        # Those in use first; the rest (a score of hosted services with no key) folded under a button
        # once one is in use, so the page shows what works rather than a wall of "No key yet".
        self.list = QWidget()
        self.cards_layout = QVBoxLayout(self.list)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.layout_.addWidget(self.list)
        self.more_button = QPushButton()
        self.more_button.setObjectName("disclosure")
        self.more_button.setCheckable(True)
        self.more_button.setFlat(True)
        self.more_button.toggled.connect(lambda _: self._fold(chosen=True))
        self.layout_.addWidget(self.more_button)
        self.more = QWidget()
        self.more_layout = QVBoxLayout(self.more)
        self.more_layout.setContentsMargins(0, 0, 0, 0)
        self.layout_.addWidget(self.more)
        self.layout_.addStretch(1)
        self._folded_by_hand = False  # once the button is pressed, a refresh no longer opens or folds
        self.more_count = 0
        self.rows: list[ProviderRow] = []
        self.statuses: list[ProviderStatus] = []
        self.cards: dict[str, ProviderCard] = {}
        self.dialog: QDialog | None = None  # the key or server dialog open now
        self.box: QMessageBox | None = None  # the last question asked
        self._actions = CardActions(
            paste_key=self.paste_key,
            get_key=self.get_key,
            test=lambda c: self.test(c.id),
            remove=self.remove,
            address=lambda c: self.set_address(c.id),
            models=lambda c: self.set_models(c.id),
            connection=lambda c: self.set_connection(c.id),
        )

    # --- what is shown -------------------------------------------------------------------------

    def shown(self) -> None:
        self.ask(lambda control: control.providers(), self._rows)

    def show_status(self, status: StatusDocument | None) -> None:
        self.statuses = status["providers"] if status is not None else []
        if not self.rows:
            self.shown()
        self._render()

    def _rows(self, rows: list[ProviderRow]) -> None:
        self.rows = rows
        self._render()

    def _render(self) -> None:
        """The cards in order, each widget kept for its provider (a refresh moves none under the pointer)."""
        shown = cards(self.rows, self.statuses)
        for gone in set(self.cards) - {c.id for c in shown}:
            self.cards.pop(gone).deleteLater()
        in_use = [c for c in shown if c.configured]
        for layout, group in ((self.cards_layout, in_use), (self.more_layout, shown[len(in_use) :])):
            for index, card in enumerate(group):
                widget = self.cards.get(card.id)
                if widget is None:
                    widget = self.cards[card.id] = ProviderCard(self._actions)
                if layout.indexOf(widget) != index:
                    layout.insertWidget(index, widget)
                widget.show_card(card)
        self.more_count = len(shown) - len(in_use)
        if not self._folded_by_hand:  # open while nothing is in use: a first run picks from them all
            self.more_button.blockSignals(True)
            self.more_button.setChecked(not in_use)
            self.more_button.blockSignals(False)
        self._fold()

    def _fold(self, chosen: bool = False) -> None:
        """Show or fold the providers not in use, as the button says."""
        self._folded_by_hand |= chosen
        open_ = self.more_button.isChecked()
        self.more_button.setText(f"{'▾' if open_ else '▸'} More providers ({self.more_count})")
        self.more_button.setVisible(self.more_count > 0)
        self.more.setVisible(open_ and self.more_count > 0)

    def card(self, provider: str) -> Card:
        widget = self.cards[provider]
        assert widget.card is not None
        return widget.card

    def _row(self, provider: str) -> ProviderRow:
        return next(r for r in self.rows if r["id"] == provider)

    # --- keys ------------------------------------------------------------------------------------

    def make_fix(self, fix: Fix) -> None:
        if fix.id == "store_key" and fix.subject in self.cards:  # "Add its key…": the paste-a-key dialog
            self.paste_key(self.card(fix.subject))
        else:
            super().make_fix(fix)

    def get_key(self, card: Card) -> None:
        if card.key_page:
            self.context.open_url(card.key_page)

    def paste_key(self, card: Card) -> None:
        def trial(values: KeyAndAddress, answered: Answered, refused: Refused) -> None:
            key, address = values
            self.ask(lambda control: control.try_provider_key(card.id, key, address), answered, refused)

        self._open(
            ProviderKeyDialog(card, trial, lambda values: self.save_key(card, *values), self.context.open_url, self)
        )

    def save_key(self, card: Card, key: str, address: str) -> None:
        """Keep the key (in the secret store) and the address, if one was given, through the admin door."""

        async def keep(control: Control) -> bool:
            return await control.save_provider_key(card.id, key, address, ACTOR)

        def kept(applied: bool) -> None:
            self.say_done(f"Saved the key for {card.name};", applied)
            self.shown()

        self.ask(keep, kept)

    def store(self, provider: str, keys: tuple[str, ...]) -> None:
        """Keep several keys at once, untested (a pool of keys for one provider)."""

        def kept(change: KeyChange) -> None:
            self.say_done(f"Stored {len(keys)} key(s) for {self._row(provider)['name']};", change["applied"])
            self.shown()

        self.ask(lambda control: control.store_provider_keys(provider, keys, ACTOR), kept)

    def remove(self, card: Card) -> None:
        """Remove a stored key or a server added here, once asked."""
        question, stops = removal_words(card)
        self.box = confirm(self, question, stops, lambda: self._remove(card))

    def _remove(self, card: Card) -> None:
        if card.custom:

            def gone(applied: bool) -> None:
                self.say_done(f"Removed the server {card.name};", applied)
                self.shown()

            self.ask(lambda control: control.remove_server(card.id, ACTOR), gone)
            return

        def removed(change: KeyChange) -> None:
            if change["changed"]:
                self.say_done(f"Removed the stored key for {card.name};", change["applied"])
            else:
                self.say(f"No key for {card.name} is stored by Switchboard; one set outside it stays.", error=True)
            self.shown()

        self.ask(lambda control: control.drop_provider_keys(card.id, ACTOR), removed)

    def test(self, provider: str) -> None:
        name = self._row(provider)["name"]
        self.say(f"Asking {name} for its models…")

        def answered(result: ProviderTest) -> None:
            if result["ok"]:
                self.say(f"{name} answers: {result['models']} models.")
            else:
                self.say(f"{name} did not answer as it should: see its card.", error=True)
            self.context.refresh()  # its card's words come with the next status
            self.shown()

        self.ask(lambda control: control.test_provider(provider), answered)

    # --- servers ----------------------------------------------------------------------------------

    def add_server(self) -> None:
        def trial(definition: ServerDefinition, answered: Answered, refused: Refused) -> None:
            self.ask(lambda control: control.try_server(definition), answered, refused)

        self._open(ServerDialog(trial, self.save_server, self))

    def save_server(self, definition: ServerDefinition) -> None:
        def added(result: ServerAdded) -> None:
            self.say_done(f"Added the server {definition['name']};", result["applied"])
            self.shown()

        self.ask(lambda control: control.add_server(definition, ACTOR), added)

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.open()  # not exec(): the gateway's answers and repaints go on meanwhile

    # --- settings of its own ----------------------------------------------------------------------

    def set_address(self, provider: str) -> None:
        row = self._row(provider)
        text, ok = QInputDialog.getText(
            self, f"Address of {row['name']}", "Its address (empty: the usual one):", text=row["base_url"]
        )
        if ok:
            self._configure(row, "base_url", text.strip() or None, "address")

    def set_models(self, provider: str) -> None:
        row = self._row(provider)
        text, ok = QInputDialog.getText(
            self,
            f"Models of {row['name']}",
            "Offer only these models (separate with commas; empty: all it lists):",
            text=", ".join(m.split("/", 1)[1] for m in row["models"]) if row["source"] == "config" else "",
        )
        if ok:
            models = [m.strip() for m in text.split(",") if m.strip()]
            self._configure(row, "models", models or None, "model list")

    def set_connection(self, provider: str) -> None:
        """Its own proxy, or none, or the Network setting's (``[providers.<id>] proxy``)."""
        row = self._row(provider)

        def read(config: dict[str, Any]) -> None:
            self._open(ConnectionDialog(self, row["id"], row["name"], (config.get("providers") or {}).get(row["id"])))

        self.context.tasks.run_blocking(self.context.setup.config, read, lambda m: self.say(m, error=True), self)

    def _configure(self, row: ProviderRow, key: str, value: Any, what: str) -> None:
        """One field of the provider's table in the settings file; refused with the reason when
        the gateway could not start from it (a provider with a table needs a key, say)."""

        def saved(edited: Edited) -> None:
            if edited.changed:
                self.say_done(f"Saved the {what} of {row['name']};", edited.applied)
                self.shown()
            else:
                self.say(f"The {what} of {row['name']} was already so.")

        self.change_config([(f"providers.{row['id']}", key, value)], saved)
