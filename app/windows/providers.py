"""Providers and keys: every provider Switchboard knows, whether it is on, its keys (kept in the
system keychain), and a Test button that asks it for its models."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLineEdit, QPushButton

from app.viewmodels.table import Column, field
from app.windows.page import Context, Page, table
from gateway import Control

ACTOR = "app"


def state_of(row: dict[str, Any]) -> str:
    if not row["configured"]:
        return "off (no key)" if not row["local"] else "off (not found)"
    if row.get("error"):
        return f"failing: {row['error']}"
    return "on"


class ProvidersPage(Page):
    title = "Providers and keys"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.view, self.model = table(
            [
                field("Provider", "name"),
                Column("State", state_of),
                Column("Keys", lambda r: ("not needed" if r["local"] else r["keys"]) if r["configured"] else "–"),
                Column("From", lambda r: r.get("source") or ""),
                Column("Models", lambda r: len(r["models"]) if r["configured"] else ""),
                field("Address", "base_url"),
            ]
        )
        self.view.doubleClicked.connect(lambda _: self.set_key())
        self.layout_.addWidget(self.view, 1)
        row = QHBoxLayout()
        for text, act in (("Set key…", self.set_key), ("Remove stored key", self.remove_key), ("Test", self.test)):
            button = QPushButton(text)
            button.clicked.connect(act)
            row.addWidget(button)
        row.addStretch(1)
        self.layout_.addLayout(row)

    def shown(self) -> None:
        self.ask(lambda control: control.providers(), self._rows)

    def _rows(self, rows: list[dict[str, Any]]) -> None:
        chosen = self.selected()
        self.model.set_rows(rows)
        if chosen is not None:
            ids = [r["id"] for r in rows]
            if chosen["id"] in ids:
                self.view.selectRow(ids.index(chosen["id"]))

    def selected(self) -> dict[str, Any] | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _chosen(self) -> dict[str, Any] | None:
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
        """Keep the keys in the secret store, then restart the gateway so it serves with them."""

        async def keep(control: Control) -> str:
            return await control.store_provider_keys(provider, keys, ACTOR)

        def kept(where: str) -> None:
            self.say(f"Stored {len(keys)} key(s) for {provider} in {where}; restarting the gateway with them…")
            self.context.restart()

        self.ask(keep, kept)

    def remove_key(self) -> None:
        row = self._chosen()
        if row is None:
            return
        pid = row["id"]

        def removed(found: bool) -> None:
            if found:
                self.say(f"Removed the stored key(s) of {pid}; restarting the gateway…")
                self.context.restart()
            else:
                self.say(f"No key of {pid} is stored here (one from the environment stays until it is unset).", error=True)

        self.ask(lambda control: control.drop_provider_keys(pid, ACTOR), removed)

    def test(self) -> None:
        row = self._chosen()
        if row is None:
            return
        pid = row["id"]
        self.say(f"Asking {row['name']} for its models…")

        def answered(result: dict[str, Any]) -> None:
            if result["ok"]:
                self.say(f"{pid} answers: {result['models']} models.")
            else:
                self.say(f"{pid} did not answer: {result['error']}", error=True)
            self.shown()

        self.ask(lambda control: control.test_provider(pid), answered)

    def show_status(self, status: dict[str, Any]) -> None:
        if not self.model.rows:
            self.shown()
