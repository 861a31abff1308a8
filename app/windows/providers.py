"""Providers and keys: every hosted provider Switchboard knows, whether it is on, its keys (kept
in the system keychain), its address and model list where they should differ from the catalog's,
and a Test button that asks it for its models. (Local servers have a page of their own.)"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLineEdit, QPushButton

from app.viewmodels.table import Column, field
from app.windows.page import ACTOR, Context, Edited, Page, table
from gateway import Control, KeyChange, ProviderRow, ProviderTest, StatusDocument


def state_of(row: ProviderRow) -> str:
    if not row["configured"]:
        return "off (no key)"
    if row["error"]:
        return f"failing: {row['error']}"
    return "on"


class ProvidersPage(Page):
    title = "Providers and keys"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        columns: list[Column[ProviderRow]] = [
            field("Provider", "name"),
            Column("State", state_of),
            Column("Keys", lambda r: r["keys"] if r["configured"] else "–"),
            Column("From", lambda r: r["source"] or ""),
            Column("Models", lambda r: len(r["models"]) if r["configured"] else ""),
            field("Address", "base_url"),
        ]
        self.view, self.model = table(columns)
        self.view.doubleClicked.connect(lambda _: self.set_key())
        self.layout_.addWidget(self.view, 1)
        row = QHBoxLayout()
        for text, act in (
            ("Set key…", self.set_key),
            ("Remove stored key", self.remove_key),
            ("Address…", self.set_address),
            ("Models…", self.set_models),
            ("Test", self.test),
        ):
            button = QPushButton(text)
            button.clicked.connect(act)
            row.addWidget(button)
        row.addStretch(1)
        self.layout_.addLayout(row)

    def shown(self) -> None:
        self.ask(lambda control: control.providers(), self._rows)

    def _rows(self, rows: list[ProviderRow]) -> None:
        chosen = self.selected()
        rows = [r for r in rows if not r["local"]]
        self.model.set_rows(rows)
        if chosen is not None:
            ids = [r["id"] for r in rows]
            if chosen["id"] in ids:
                self.view.selectRow(ids.index(chosen["id"]))

    def selected(self) -> ProviderRow | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _chosen(self) -> ProviderRow | None:
        row = self.selected()
        if row is None:
            self.say("Choose a provider in the list first.", error=True)
        return row

    def set_key(self) -> None:
        row = self._chosen()
        if row is None:
            return
        text, ok = QInputDialog.getText(
            self, f"Key for {row['name']}", "API key (several: separate with spaces):", QLineEdit.EchoMode.Password
        )
        keys = tuple(dict.fromkeys(text.split()))
        if ok and keys:
            self.store(row["id"], keys)

    def store(self, provider: str, keys: tuple[str, ...]) -> None:
        """Keep the keys in the secret store through the admin door (checked, applied, audited)."""

        async def keep(control: Control) -> KeyChange:
            return await control.store_provider_keys(provider, keys, ACTOR)

        def kept(change: KeyChange) -> None:
            self.say_done(f"Stored {len(keys)} key(s) for {provider} in {change['stored_in']};", change["applied"])
            self.shown()

        self.ask(keep, kept)

    def remove_key(self) -> None:
        row = self._chosen()
        if row is None:
            return
        pid = row["id"]

        def removed(change: KeyChange) -> None:
            if change["changed"]:
                self.say_done(f"Removed the stored key(s) of {pid};", change["applied"])
                self.shown()
            else:
                self.say(
                    f"No key of {pid} is stored here (one from the environment stays until it is unset).", error=True
                )

        self.ask(lambda control: control.drop_provider_keys(pid, ACTOR), removed)

    def set_address(self) -> None:
        row = self._chosen()
        if row is None:
            return
        text, ok = QInputDialog.getText(
            self, f"Address of {row['name']}", "Base URL (empty: the catalog's):", text=row["base_url"]
        )
        if ok:
            self._configure(row, "base_url", text.strip() or None, "address")

    def set_models(self) -> None:
        row = self._chosen()
        if row is None:
            return
        text, ok = QInputDialog.getText(
            self,
            f"Models of {row['name']}",
            "Offer only these models (separate with commas; empty: all it lists):",
            text=", ".join(m.split("/", 1)[1] for m in row["models"]) if row["source"] == "config" else "",
        )
        if ok:
            models = [m.strip() for m in text.split(",") if m.strip()]
            self._configure(row, "models", models or None, "model list")

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

    def test(self) -> None:
        row = self._chosen()
        if row is None:
            return
        pid = row["id"]
        self.say(f"Asking {row['name']} for its models…")

        def answered(result: ProviderTest) -> None:
            if result["ok"]:
                self.say(f"{pid} answers: {result['models']} models.")
            else:
                self.say(f"{pid} did not answer: {result['error']}", error=True)
            self.shown()

        self.ask(lambda control: control.test_provider(pid), answered)

    def show_status(self, status: StatusDocument | None) -> None:
        if not self.model.rows:
            self.shown()
