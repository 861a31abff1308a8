"""Local models: Ollama, LM Studio, llama.cpp and vLLM looked for on their usual ports (and any
server given an address), their models, each server switched on or off, and a rescan that finds
one started a moment ago."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QPushButton

from app.viewmodels.table import Column, field
from app.windows.page import Context, Edited, Page, rows_height, table
from gateway import Change, ProviderRow


def server_state(row: ProviderRow, off: bool) -> str:
    if off:
        return "off"
    if not row["configured"]:
        return "not looked for: give it its address"
    if row["error"]:
        return "not running" if row["looked_for"] else f"failing: {row['error']}"
    count = len(row["models"])
    return f"running, {count} model{'s' if count != 1 else ''}"


def with_path(address: str, path: str) -> str:
    """A server's root address as its base URL: LM Studio at ``http://box:1234`` serves its API
    under ``/v1``; an address already ending so is kept."""
    address = address.strip().rstrip("/")
    if "://" not in address:
        address = f"http://{address}"
    return address if not path or address.endswith(path) else address + path


class LocalModelsPage(Page):
    title = "Local models"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.off: set[str] = set()  # switched off in the settings file
        intro = QLabel(
            "Model servers on this computer or your network. Switchboard looks for Ollama, LM Studio, "
            "llama.cpp and vLLM on their usual ports and uses them while they answer; no key is needed."
        )
        intro.setWordWrap(True)
        self.layout_.addWidget(intro)
        columns: list[Column[ProviderRow]] = [
            field("Server", "name"),
            Column("State", lambda r: server_state(r, r["id"] in self.off)),
            field("Address", "base_url"),
            Column("Models", lambda r: ", ".join(r["models"]) if r["id"] not in self.off else ""),
        ]
        self.view, self.model = table(columns)
        self.view.doubleClicked.connect(lambda _: self.set_address())
        self.layout_.addWidget(self.view)
        row = QHBoxLayout()
        self.toggle_button = QPushButton("Turn off")
        for button, act in (
            (QPushButton("Rescan"), self.rescan),
            (self.toggle_button, self.toggle),
            (QPushButton("Set address…"), self.set_address),
        ):
            button.clicked.connect(act)
            row.addWidget(button)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.layout_.addStretch(1)  # the buttons right under the list, the room left below them
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._label_toggle())

    def shown(self) -> None:
        self.context.tasks.run_blocking(
            self.context.setup.config, self._config, lambda m: self.say(m, error=True), self
        )
        self.ask(lambda control: control.providers(), self._rows)

    def _config(self, config: dict[str, Any]) -> None:
        tables = config.get("providers") or {}
        self.off = {pid for pid, t in tables.items() if isinstance(t, dict) and t.get("enabled") is False}
        self.model.set_rows(self.model.rows)
        self._label_toggle()

    def _rows(self, rows: list[ProviderRow]) -> None:
        chosen = self.selected()
        local = [r for r in rows if r["local"]]
        self.model.set_rows(local)
        self.view.setFixedHeight(rows_height(self.view, max(1, len(local))))  # as tall as its servers
        if chosen is not None:
            ids = [r["id"] for r in local]
            if chosen["id"] in ids:
                self.view.selectRow(ids.index(chosen["id"]))
        self._label_toggle()

    def selected(self) -> ProviderRow | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _label_toggle(self) -> None:
        row = self.selected()
        self.toggle_button.setText("Turn on" if row is not None and row["id"] in self.off else "Turn off")

    def rescan(self) -> None:
        self.say("Looking for local model servers…")

        def found(rows: list[ProviderRow]) -> None:
            self._rows(rows)
            running = [
                r["name"] for r in self.model.rows if r["configured"] and not r["error"] and r["id"] not in self.off
            ]
            self.say(f"Running: {', '.join(running)}." if running else "No local model server answered.")

        self.ask(lambda control: control.rescan_local(), found)

    def toggle(self) -> None:
        row = self.selected()
        if row is None:
            self.say("Choose a server in the list first.", error=True)
            return
        turning_on = row["id"] in self.off
        if turning_on and not row["configured"] and not row["base_url"]:
            self.set_address()
            return
        self._change(
            row, [("providers." + row["id"], "enabled", None if turning_on else False)], "on" if turning_on else "off"
        )

    def set_address(self) -> None:
        row = self.selected()
        if row is None:
            self.say("Choose a server in the list first.", error=True)
            return
        text, ok = QInputDialog.getText(
            self, f"Address of {row['name']}", "Where it listens (e.g. http://192.168.1.20:1234):", text=row["base_url"]
        )
        if ok and text.strip():
            table_ = "providers." + row["id"]
            self._change(
                row,
                [(table_, "base_url", with_path(text, row["url_path"])), (table_, "enabled", None)],
                "at the new address",
            )

    def _change(self, row: ProviderRow, changes: list[Change], what: str) -> None:
        def saved(edited: Edited) -> None:
            if edited.changed:
                self.say_done(f"{row['name']} is {what};", edited.applied)
            else:
                self.say(f"{row['name']} was {what} already.")
            self.shown()

        self.change_config(changes, saved)
