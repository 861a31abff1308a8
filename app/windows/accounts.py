"""Accounts: ChatGPT and GitHub Copilot subscriptions — import a login already on this machine,
or sign in — and the list of them with plan, state and the risk label."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QMessageBox, QPushButton

from app.viewmodels.health import account_state
from app.viewmodels.table import Column, field
from app.windows.confirm import confirm
from app.windows.page import ACTOR, Context, Page, fit_rows, table
from app.windows.sign_in_dialog import SignInDialog
from gateway import AccountEntry, AccountPublic, Control, Fix, FixId, FlowDoc, StatusDocument

SERVICES = {"codex": "ChatGPT (Codex)", "copilot": "GitHub Copilot"}
NONE_YET = (
    "No account connected yet. Sign in above to use a ChatGPT or GitHub Copilot subscription's models, "
    "or import a login this computer already has."
)
SIGN_IN_FIXES: dict[FixId, str] = {"sign_in_chatgpt": "codex", "sign_in_copilot": "copilot"}  # fix → sign-in kind


class AccountsPage(Page):
    title = "Accounts"
    fixes = Page.fixes | set(SIGN_IN_FIXES)

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.dialog: SignInDialog | None = None
        self.box: QMessageBox | None = None  # the question before a removal, while it is asked
        # A row per service: its name, then its two ways in, at their own widths.
        actions = (
            (
                "ChatGPT (Codex)",
                "Sign in with ChatGPT",
                lambda: self.sign_in("codex"),
                "Opens ChatGPT's sign-in page in your browser",
            ),
            ("", "Import Codex login", self.import_codex, "Use the login the Codex CLI keeps on this computer"),
            (
                "GitHub Copilot",
                "Sign in with GitHub Copilot",
                lambda: self.sign_in("copilot"),
                "Shows a code to enter on github.com",
            ),
            ("", "Import from editor", self.import_editor, "Use the Copilot sign-in of VS Code or JetBrains"),
        )
        self.buttons: dict[str, QPushButton] = {}
        services = QGridLayout()
        services.setColumnStretch(3, 1)
        for n, (service, text, act, tip) in enumerate(actions):
            if service:
                services.addWidget(QLabel(service), n // 2, 0)
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(act)
            services.addWidget(button, n // 2, 1 + n % 2)
            self.buttons[text] = button
        self.layout_.addLayout(services)
        self.view, self.model = table(
            [
                field("Account", "label"),
                Column("Service", lambda r: SERVICES.get(r["kind"], r["kind"])),
                field("Plan", "plan"),
                Column("State", lambda r: "Working" if r["state"] == "ok" else account_state(r["state"])),
            ]
        )
        self.none = QLabel(NONE_YET)
        self.none.setObjectName("muted")
        self.layout_.addWidget(self.none)
        self.layout_.addWidget(self.view)
        self.risk = QLabel()
        self.risk.setWordWrap(True)
        self.layout_.addWidget(self.risk)
        row = QHBoxLayout()
        row.addStretch(1)
        self.remove_button = QPushButton("Remove account")
        self.remove_button.clicked.connect(self.remove)
        row.addWidget(self.remove_button)
        self.layout_.addLayout(row)
        self.layout_.addStretch(0)  # with no account (the list hidden), the words stay at the top

    def show_status(self, status: StatusDocument | None) -> None:
        accounts = status.get("accounts", []) if status is not None else []
        selected = self.selected()
        self.model.set_rows(accounts)
        fit_rows(self.view, len(accounts))  # as tall as its accounts, hidden with none
        self.remove_button.setVisible(bool(accounts))
        self.none.setVisible(not accounts)
        if selected is not None:
            ids = [a["id"] for a in accounts]
            if selected["id"] in ids:
                self.view.selectRow(ids.index(selected["id"]))
        note = next((a["risk_note"] for a in accounts if a["risk_note"]), "")
        self.risk.setText(f"Risk: {note}" if note else "")

    def selected(self) -> AccountEntry | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _connected(self, account: AccountPublic) -> None:
        self.say(f"Connected {account['label']}" + (f" ({account['plan']} plan)." if account["plan"] else "."))
        self.context.refresh()

    def import_codex(self) -> None:
        self.say("Reading the Codex CLI's login…")
        self.ask(lambda control: control.import_codex(ACTOR), self._connected)

    def import_editor(self) -> None:
        self.say("Reading your editor's Copilot sign-in…")
        self.ask(lambda control: control.import_copilot(ACTOR), self._connected)

    def make_fix(self, fix: Fix) -> None:
        if fix.id in SIGN_IN_FIXES:  # "Sign in with … instead": no login to import was found
            self.sign_in(SIGN_IN_FIXES[fix.id])
        else:
            super().make_fix(fix)

    def sign_in(self, kind: str) -> None:
        self.say("Starting the sign-in…")

        async def start(control: Control) -> FlowDoc:
            return (await control.sign_in(kind, ACTOR)).for_person()

        self.ask(start, self._follow)

    def _follow(self, flow: FlowDoc) -> None:
        self.say("")
        self.dialog = SignInDialog(self.context, flow, self)
        self.dialog.accepted.connect(lambda: self._signed_in(self.dialog))
        self.dialog.open()

    def _signed_in(self, dialog: SignInDialog | None) -> None:
        if dialog is not None and dialog.result_account is not None:
            self._connected(dialog.result_account)

    def remove(self) -> None:
        account = self.selected()
        if account is None:
            self.say("Choose an account in the list first.", error=True)
            return
        account_id, label = account["id"], account["label"]
        self.box = confirm(
            self,
            f"Remove the account '{label}'?",
            what_stops(account, self.model.rows),
            lambda: self._remove(account_id, label),
        )

    def _remove(self, account_id: str, label: str) -> None:
        def removed(_: object) -> None:
            self.say(f"Removed {label}.")
            self.context.refresh()

        self.ask(lambda control: control.remove_account(account_id, ACTOR), removed)


def what_stops(account: AccountEntry, accounts: Sequence[AccountEntry]) -> str:
    """What stops working once ``account`` is gone: its models, unless another account serves them."""
    service = SERVICES.get(account["kind"], account["kind"])
    others = [a["label"] for a in accounts if a["kind"] == account["kind"] and a["id"] != account["id"]]
    models = (
        f"{service} models go on through {', '.join(others)}."
        if others
        else f"{service} models stop answering: no other {service} account is connected, so tools using them fail."
    )
    return f"No request goes through {account['label']} any more; {models} Its sign-in is deleted from this computer."
