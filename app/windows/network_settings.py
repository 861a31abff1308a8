"""How Switchboard reaches providers, as Settings shows and edits it: the proxy (this computer's
settings, none, or one named here with an optional user name and password), the proxy in use now
and who named it, and a company certificate to trust besides the system's. The same proxy choice,
per provider, in its card's "Connection…" dialog. Everything is saved through the gateway's admin
door (``Control.set_proxy``: the password to the secret store, never the settings file) and
applied live, or refused with the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.viewmodels.proxy import ADDRESS_HINT, Mode, ProxyChoice, proxy_in_use
from app.windows.page import ACTOR, Edited, Page
from app.windows.widgets.elided_label import ElidedLabel
from gateway import Change, Control, NetworkStatus

SYSTEM = "Use this computer's settings"
NO_CA = "None: only the certificates this computer trusts"
CA_FILES = "Certificates (*.pem *.crt *.cer);;All files (*)"
KEPT = "Leave empty to keep the saved one"


class ProxyFields(QWidget):
    """The three choices and, for "This proxy", its address, user name and password.
    ``system``: what the first choice says (a provider's follows the Network setting)."""

    def __init__(self, system: str = SYSTEM, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.saved = ProxyChoice()
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.buttons: dict[Mode, QRadioButton] = {}
        choices: tuple[tuple[Mode, str], ...] = (("system", system), ("direct", "No proxy"), ("proxy", "This proxy:"))
        for mode, text in choices:
            button = QRadioButton(text)
            self.group.addButton(button)
            self.buttons[mode] = button
            rows.addWidget(button)
        self.address = QLineEdit()
        self.address.setPlaceholderText(ADDRESS_HINT)
        self.address.setAccessibleName("Proxy address")
        self.user = QLineEdit()
        self.user.setPlaceholderText("Optional")
        self.user.setAccessibleName("Proxy user name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Proxy password")
        wide = self.address.fontMetrics().horizontalAdvance("socks5://proxy.example.com:1080") + 40
        for field in (self.address, self.user, self.password):
            field.setMinimumWidth(wide)  # an address fits; the fields do not stretch across the page
        self.details = QWidget()
        form = QFormLayout(self.details)
        form.setContentsMargins(24, 0, 0, 0)  # under "This proxy:", as its part
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Address", self.address)
        form.addRow("User name", self.user)
        form.addRow("Password", self.password)
        rows.addWidget(self.details)
        self.buttons["proxy"].toggled.connect(self.details.setEnabled)
        self.show_choice(ProxyChoice())

    def show_choice(self, choice: ProxyChoice) -> None:
        """As saved; the password field empty (it never comes back), saying whether one is kept."""
        self.saved = choice
        self.buttons[choice.mode].setChecked(True)
        self.details.setEnabled(choice.mode == "proxy")
        self.address.setText(choice.address)
        self.user.setText(choice.user)
        self.password.clear()
        self.password.setPlaceholderText(KEPT if choice.user else "Optional")  # a user name: one may be saved

    def wanted(self) -> ProxyChoice:
        mode = next(m for m, b in self.buttons.items() if b.isChecked())
        if mode != "proxy":
            return ProxyChoice(mode)
        return ProxyChoice("proxy", self.address.text().strip(), self.user.text().strip())

    def problem(self) -> str | None:
        """Why the fields cannot be saved as they are, in words; None when they can."""
        wanted = self.wanted()
        if wanted.mode == "proxy" and not wanted.address:
            return f"Type the proxy's address ({ADDRESS_HINT})."
        if self.password.text() and not wanted.user:
            return "A password goes with a user name: type the user name too."
        return None


def save_proxy(page: Page, table: str, fields: ProxyFields, then: Callable[[Edited], None]) -> None:
    """Save the proxy choice of ``table`` ("network", "providers.<id>") through the admin door."""
    if problem := fields.problem():
        page.say(problem, error=True)
        return
    wanted, password = fields.wanted(), fields.password.text()
    if not page.context.host.serving:
        if password:
            page.say("The password is kept by the gateway: start it, then save again.", error=True)
            return
        page.change_config([_file_change(table, wanted)], then)
        return

    async def save(control: Control) -> Edited:
        edit = await control.set_proxy(table, wanted.setting, wanted.user, password, ACTOR)
        return Edited(edit["changed"], edit["applied"])

    def saved(edited: Edited) -> None:
        if edited.changed and not edited.applied:
            page.context.reconfigure()
        fields.show_choice(wanted)
        then(edited)

    page.ask(save, saved)


def _file_change(table: str, wanted: ProxyChoice) -> Change:
    """With the gateway stopped: the address as the file keeps it (the user name, no password)."""
    value = wanted.setting
    if value and wanted.user and "://" in value:
        scheme, _, where = value.partition("://")
        value = f"{scheme}://{quote(wanted.user, safe='')}@{where}"
    return (table, "proxy", value)


class NetworkBox(QGroupBox):
    """The Network section of Settings; ``page`` saves and says what happened."""

    def __init__(self, page: Page) -> None:
        super().__init__("Network")
        self.page = page
        self.ca_file: str | None = None
        form = QFormLayout(self)
        self.fields = ProxyFields()
        form.addRow("Proxy", self.fields)
        apply_row = QHBoxLayout()
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.save_proxy)
        apply_row.addWidget(self.apply_button)
        apply_row.addStretch(1)
        form.addRow(apply_row)
        self.in_use = QLabel(proxy_in_use(None))
        self.in_use.setObjectName("muted")
        self.in_use.setWordWrap(True)
        form.addRow("In use now", self.in_use)
        certificate = QHBoxLayout()  # the buttons first: a long path is shortened after them
        self.choose_ca = QPushButton("Choose…")
        self.choose_ca.clicked.connect(self.pick_ca_file)
        certificate.addWidget(self.choose_ca)
        self.remove_ca = QPushButton("Remove")
        self.remove_ca.clicked.connect(lambda: self.set_ca_file(None))
        certificate.addWidget(self.remove_ca)
        self.ca_label = ElidedLabel(NO_CA)
        certificate.addWidget(self.ca_label, 1)
        form.addRow("Company certificate", certificate)

    def read(self, config: dict[str, Any]) -> None:
        network = config.get("network") or {}
        self.fields.show_choice(ProxyChoice.of(network))
        named = network.get("ca_file") if isinstance(network, dict) else None
        self.ca_file = named if isinstance(named, str) and named else None
        self.ca_label.setText(self.ca_file or NO_CA)
        self.remove_ca.setEnabled(self.ca_file is not None)

    def show_network(self, network: NetworkStatus | None) -> None:
        self.in_use.setText(proxy_in_use(network))

    def save_proxy(self) -> None:
        def saved(edited: Edited) -> None:
            if edited.changed:
                self.page.say_done("Proxy saved.", edited.applied, lambda: "Used from the next connection on.")
            else:
                self.page.say("Nothing to change: the settings file says so already.")

        if self.fields.wanted() == self.fields.saved and not self.fields.password.text():
            self.page.say("Nothing to change.")
            return
        save_proxy(self.page, "network", self.fields, saved)

    def pick_ca_file(self) -> None:
        start = str(Path(self.ca_file).parent) if self.ca_file else str(Path.home())
        chosen, _ = QFileDialog.getOpenFileName(self, "Company certificate", start, CA_FILES)
        if chosen:
            self.set_ca_file(chosen)

    def set_ca_file(self, path: str | None) -> None:
        def saved(edited: Edited) -> None:
            self.ca_file = path
            self.ca_label.setText(path or NO_CA)
            self.remove_ca.setEnabled(path is not None)
            done = "Company certificate trusted." if path else "Company certificate removed."
            self.page.say_done(done, edited.applied, lambda: "Used from the next connection on.")

        self.page.change_config([("network", "ca_file", path)], saved)


class ConnectionDialog(QDialog):
    """A provider's own proxy: the same choices, the first following the Network setting."""

    def __init__(self, page: Page, provider: str, name: str, table: Any) -> None:
        super().__init__(page)
        self.setWindowTitle(f"Connection of {name}")
        self.page, self.provider, self.name = page, provider, name
        rows = QVBoxLayout(self)
        rows.addWidget(QLabel(f"How Switchboard reaches {name}:"))
        self.fields = ProxyFields("Same as the Network setting in Settings")
        self.fields.show_choice(ProxyChoice.of(table))
        rows.addWidget(self.fields)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        rows.addWidget(buttons)

    def save(self) -> None:
        def saved(edited: Edited) -> None:
            if edited.changed:
                self.page.say_done(f"Saved the connection of {self.name}.", edited.applied)
            else:
                self.page.say(f"The connection of {self.name} was already so.")

        if problem := self.fields.problem():
            self.page.say(problem, error=True)
            return
        save_proxy(self.page, f"providers.{self.provider}", self.fields, saved)
        self.accept()
