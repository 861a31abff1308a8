"""Settings: where the gateway listens (port, LAN mode with its client keys, keys on this
computer too), start at login, theme, log level, the data folder, the network (proxy, company
certificate: app/windows/network_settings.py) and a team's gateway for the tools (its key in the
secret store: app/windows/team_settings.py). Everything lands in the settings file through the
gateway's admin door: checked the way a start reads it, applied to the running gateway and
audited, or refused with the reason. Moving the data folder stops the gateway while everything
moves, then starts it from the new place."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
)

from app.theme import apply_theme
from app.viewmodels.settings import (
    LAN_WARNING,
    Network,
    folder_note,
    log_level_of,
    move_target,
    theme_of,
)
from app.viewmodels.table import Column, field, stamp
from app.windows.confirm import confirm
from app.windows.key_budget import change_budget
from app.windows.key_dialog import Budgets, KeyDialog, NewKeyDialog, budgets_text
from app.windows.network_settings import NetworkBox
from app.windows.page import ACTOR, Context, Edited, Page, bring_into_view, fit_rows, table
from app.windows.passphrase_dialog import PassphraseDialog, set_aside_secrets
from app.windows.restore_tools import restore_all_tools
from app.windows.team_settings import TeamBox
from app.windows.updates_box import UpdatesBox
from app.windows.widgets.elided_label import ElidedLabel
from gateway import LOG_LEVELS, MOVABLE, ClientKey, Control, CreatedKey, Fix, StatusDocument, secrets_place

THEME_NAMES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
LAN_KEY_LABEL = "LAN"
NO_KEYS = "No client keys yet. Programs on this computer need none unless asked to above; other computers do."


class SettingsPage(Page):
    title = "Settings"
    fixes = Page.fixes | {"add_client_key", "unlock_secrets", "set_aside_secrets", "trust_certificate"}
    shows_failures = True  # where the address is chosen: a start that failed there says so, with its fix

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.saved = Network()  # as the file says, once read
        self.config: dict[str, Any] = {}
        self.keys: list[ClientKey] = []

        address = QGroupBox("Address")
        form = QFormLayout(address)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setAccessibleName("Port")
        form.addRow("Port", self.port)
        self.port_note = QLabel()
        self.port_note.setWordWrap(True)
        self.port_note.hide()
        form.addRow(self.port_note)
        self.lan = QCheckBox("Let other computers on this network use Switchboard (LAN mode)")
        form.addRow(self.lan)
        self.lan_warning = QLabel(LAN_WARNING)
        self.lan_warning.setObjectName("notice")
        self.lan_warning.setWordWrap(True)
        self.lan_warning.hide()
        form.addRow(self.lan_warning)
        self.lan.toggled.connect(self.lan_warning.setVisible)
        self.require_keys = QCheckBox("Programs on this computer need a client key too")
        form.addRow(self.require_keys)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply)
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.apply_button)
        apply_row.addStretch(1)
        form.addRow(apply_row)
        self.layout_.addWidget(address)

        keys = QGroupBox("Client keys")
        keys_layout = QFormLayout(keys)
        key_columns: list[Column[ClientKey]] = [
            field("Label", "label"),
            Column("Key", lambda r: f"{r['prefix']}…{r['last4']}"),
            field("Tier", "tier"),
            Column("Budget", lambda r: budgets_text(r["limits"])),
            Column("Created", lambda r: stamp(r["created_at"], "%Y-%m-%d")),
            Column("Last used", lambda r: stamp(r["last_used"], "%Y-%m-%d %H:%M") or "never"),
            Column("State", lambda r: "revoked" if r["revoked_at"] else "live"),
        ]
        self.keys_view, self.keys_model = table(key_columns)
        keys_layout.addRow(self.keys_view)
        self.no_keys = QLabel(NO_KEYS)
        self.no_keys.setObjectName("muted")
        self.no_keys.setWordWrap(True)
        keys_layout.addRow(self.no_keys)
        fit_rows(self.keys_view, 0)
        buttons = QHBoxLayout()
        self.keys_view.doubleClicked.connect(self.change_budget)
        for text, act in (
            ("Create key…", self.create_key),
            ("Change budget…", self.change_budget),
            ("Revoke", self.revoke_key),
        ):
            button = QPushButton(text)
            button.clicked.connect(act)
            buttons.addWidget(button)
        buttons.addStretch(1)
        keys_layout.addRow(buttons)
        self.layout_.addWidget(keys, 1)

        here = QGroupBox("This computer")
        local = QFormLayout(here)
        local.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.autostart = QCheckBox("Start Switchboard when I log in")
        self.autostart.toggled.connect(self._autostart)
        local.addRow(self.autostart)
        self.theme = QComboBox()
        for value, name in THEME_NAMES.items():
            self.theme.addItem(name, value)
        self.theme.activated.connect(lambda _: self._theme())
        local.addRow("Theme", self.theme)
        self.log_level = QComboBox()
        for level in LOG_LEVELS:
            self.log_level.addItem(level.capitalize(), level)
        self.log_level.activated.connect(lambda _: self._log_level())
        local.addRow("Log level", self.log_level)
        restore_tools = QPushButton("Restore tool settings…")
        restore_tools.setToolTip("Put back the settings of every tool Switchboard set up, as they were before")
        restore_tools.clicked.connect(lambda: restore_all_tools(self))
        local.addRow("Tools", restore_tools)
        folder = QHBoxLayout()
        paths = context.setup.paths
        self.folder = ElidedLabel(str(paths.config_dir))  # a long path is shortened, never widens the window
        folder.addWidget(self.folder, 1)
        open_folder = QPushButton("Open folder")
        open_folder.clicked.connect(
            lambda: context.open_url(QUrl.fromLocalFile(str(context.setup.paths.config_dir)).toString())
        )
        folder.addWidget(open_folder)
        self.move_button = QPushButton("Move…")
        self.move_button.setEnabled(paths.source in MOVABLE)
        self.move_button.setToolTip(folder_note(paths.source))
        self.move_button.clicked.connect(self.move_folder)
        folder.addWidget(self.move_button)
        local.addRow("Data folder", folder)
        self.secrets = QLabel()
        self.secrets.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        local.addRow("Secrets kept in", self.secrets)
        self.layout_.addWidget(here)
        self.network = NetworkBox(self)  # the proxy and a company certificate
        self.layout_.addWidget(self.network)
        self.team = TeamBox(self)  # the team's gateway the tools use instead of this one
        self.layout_.addWidget(self.team)
        self.updates = UpdatesBox(context.updater, self.change_config)
        self.layout_.addWidget(self.updates)

    # --- reading ----------------------------------------------------------------------------

    def shown(self) -> None:
        self.context.tasks.run_blocking(
            self.context.setup.config, self._config, lambda m: self.say(m, error=True), self
        )
        self.context.tasks.run_blocking(self.context.setup.secrets, self._secrets, self.secrets.setText, self)
        self.team.read()
        self.autostart.blockSignals(True)
        self.autostart.setChecked(self.context.autostart.enabled())
        self.autostart.blockSignals(False)
        if self.context.host.serving:
            self.ask(lambda control: control.keys(), self._keys)

    def show_status(self, status: StatusDocument | None) -> None:
        self.network.show_network(status.get("network") if status is not None else None)

    def _secrets(self, store: Any) -> None:
        self.secrets.setText("\n".join(part for part in secrets_place(store.kind, store.where) if part))

    def _config(self, config: dict[str, Any]) -> None:
        self.config = config
        self.saved = Network.of(config)
        self.port.setValue(self.saved.port)
        self.lan.setChecked(self.saved.lan)
        self.require_keys.setChecked(self.saved.require_keys)
        self.theme.setCurrentIndex(self.theme.findData(theme_of(config)))
        self.log_level.setCurrentIndex(self.log_level.findData(log_level_of(config)))
        self.updates.read(config)
        self.network.read(config)
        override = self.context.setup.port
        self.port_note.setText(
            f"This run listens on port {override}, given on the command line; "
            "the setting applies when started without it."
        )
        self.port_note.setVisible(override is not None)

    def _keys(self, keys: list[ClientKey]) -> None:
        self.keys = keys
        self.keys_model.set_rows(sorted(keys, key=lambda k: (bool(k["revoked_at"]), -k["created_at"])))
        fit_rows(self.keys_view, len(keys))  # as tall as its keys: no empty box
        self.no_keys.setVisible(not keys)

    # --- address ----------------------------------------------------------------------------

    def wanted(self) -> Network:
        return Network(self.port.value(), self.lan.isChecked(), self.require_keys.isChecked())

    def apply(self) -> None:
        wanted = self.wanted()
        changes = wanted.changes(self.saved)
        if not changes:
            self.say("Nothing to change.")
            return
        needs_key = (wanted.lan or wanted.require_keys) and not any(not k["revoked_at"] for k in self.keys)
        if not needs_key:
            self._save_address(wanted)
        elif not self.context.host.serving:
            self.say("Clients will need a key, and there is none yet: start the gateway, then try again.", error=True)
        else:  # a key first: beyond loopback the gateway will not listen without one (and it must be seen)
            self._create(LAN_KEY_LABEL, lambda _: self._save_address(wanted))

    def _save_address(self, wanted: Network) -> None:
        def listening() -> str:
            server = self.context.host.server
            port = server.port if server is not None else None
            lan = " Other computers reach it at this computer's name or address." if wanted.lan else ""
            if self.context.setup.port is None or port == wanted.port:
                return f"The gateway listens on port {port}.{lan}"
            return (
                f"The gateway listens on port {port}, chosen at launch; port {wanted.port} applies when "
                f"Switchboard is started without a port chosen at launch.{lan}"
            )

        def saved(edited: Edited) -> None:
            self.saved = wanted
            if edited.changed:
                self.say_done("Saved.", edited.applied, listening)
            else:
                self.say("Nothing to change: the settings file says so already.")

        self.change_config(wanted.changes(self.saved), saved)

    # --- client keys --------------------------------------------------------------------------

    def make_fix(self, fix: Fix) -> None:
        if fix.id == "add_client_key":
            self.create_key()
        elif fix.id == "unlock_secrets":
            PassphraseDialog(self).open()
        elif fix.id == "set_aside_secrets":
            set_aside_secrets(self)
        elif fix.id == "trust_certificate":  # where one is chosen, not the file dialog unasked
            bring_into_view(self.network.choose_ca)
        else:
            super().make_fix(fix)

    def create_key(self) -> None:
        NewKeyDialog(lambda label, budgets: self._create(label, lambda _: None, budgets), self).open()

    def _create(self, label: str, then: Callable[[CreatedKey], None], budgets: Budgets | None = None) -> None:
        async def make(control: Control) -> CreatedKey:
            return await control.create_key(label, "standard", budgets or {}, ACTOR)

        def made(created: CreatedKey) -> None:
            dialog = KeyDialog(created["key"], label, self.context.copy, self)
            dialog.open()
            self.ask(lambda control: control.keys(), self._keys)
            then(created)

        self.ask(make, made)

    def change_budget(self) -> None:
        change_budget(self, self.keys_view, self.keys_model, self._keys)

    def revoke_key(self) -> None:
        rows = self.keys_view.selectionModel().selectedRows()
        if not rows:
            self.say("Choose a key in the list first.", error=True)
            return
        key = self.keys_model.rows[rows[0].row()]

        if key["revoked_at"]:
            self.say(f"{key['label']} is revoked already.")
            return

        async def revoke(control: Control) -> list[ClientKey]:
            await control.revoke_key(key["id"], ACTOR)
            return control.keys()

        def revoked(keys: list[ClientKey]) -> None:
            self._keys(keys)
            self.say(f"Revoked {key['label']}: it is refused from now on.")

        live = [k for k in self.keys if not k["revoked_at"]]
        last = len(live) == 1 and (self.saved.lan or self.saved.require_keys)
        stops = (
            f"Every program or computer using the key “{key['label']}” is refused from then on, "
            "and it cannot be turned back on (a new key can be made)."
        )
        if last:
            who = "nothing on the network" if self.saved.lan else "no program"
            stops += f" It is the last client key: {who} can use Switchboard until there is another."
        confirm(
            self, f"Revoke the client key “{key['label']}”?", stops, lambda: self.ask(revoke, revoked), act="Revoke"
        )

    # --- this computer ------------------------------------------------------------------------

    def _autostart(self, on: bool) -> None:
        self.context.start_at_login(on)

    def _theme(self) -> None:
        scheme = self.theme.currentData()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, scheme)
        self.change_config([("app", "theme", None if scheme == "system" else scheme)], lambda _: None)

    def move_folder(self) -> None:
        start = str(self.context.setup.paths.config_dir.parent)
        chosen = QFileDialog.getExistingDirectory(self, "Move Switchboard's folder to", start)
        if not chosen:
            return
        target = move_target(Path(chosen))
        asked = QMessageBox.question(
            self,
            "Move Switchboard's folder",
            f"Move the settings, the database, the audit log, the logs and the keychain entries to\n{target}?\n\n"
            "The gateway stops while they move (requests in flight finish first) and starts again from there.",
        )
        if asked != QMessageBox.StandardButton.Yes:
            return
        self.move_button.setEnabled(False)
        self.say(f"Moving to {target}…")

        def moved(left: list[str]) -> None:
            self.move_button.setEnabled(True)
            self.folder.setText(str(self.context.setup.paths.config_dir))
            if left:
                self.say(
                    f"Moved to {target}. Some of the old copy could not be removed; remove it yourself: "
                    f"{'; '.join(left)}",
                    error=True,
                )
            else:
                self.say(f"Moved to {target}; the old copy is gone. Switchboard finds it there from now on.")

        def failed(message: str) -> None:
            self.move_button.setEnabled(True)
            self.say(f"Not moved: {message}. Everything is where it was.", error=True)

        self.context.tasks.run_blocking(
            lambda: self.context.setup.move(target), moved, failed, self, gateway_stopped=True
        )

    def _log_level(self) -> None:
        level = self.log_level.currentData()
        logging.getLogger().setLevel(level.upper())
        self.change_config([("server", "log_level", None if level == "info" else level)], lambda _: None)
