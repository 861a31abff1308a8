"""Settings' "Team gateway": the address of a team's gateway the tools on this computer are set up
to use instead of this one (the Connect page), its client key (to the secret store, never the
settings file, never shown back) and "Check", which asks the team's gateway whether it answers and
takes the key. An empty address points the tools back at this computer's gateway and forgets the key."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton

from app.colours import BAD
from app.tasks import spawn
from app.team import ADDRESS_HINT, Team, address_problem, check_team, keep_key, read_team
from app.windows.page import Edited, Page
from gateway import NetworkSettings

KEPT = "Leave empty to keep the saved one"
NONE_KEPT = "The key the team gave you"


class TeamBox(QGroupBox):
    """The Team gateway section of Settings; ``page`` saves and says what happened."""

    def __init__(self, page: Page) -> None:
        super().__init__("Team gateway")
        self.page = page
        self.saved: Team | None = None
        self.network: NetworkSettings | None = None
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        about = QLabel(
            "Where your team runs Switchboard for everyone, your tools can use it instead of this computer's. "
            "Leave the address empty to use this computer's."
        )
        about.setWordWrap(True)
        form.addRow(about)
        self.address = QLineEdit()
        self.address.setPlaceholderText(ADDRESS_HINT)
        self.address.setAccessibleName("Team gateway address")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setAccessibleName("Team gateway client key")
        self.key.setPlaceholderText(NONE_KEPT)
        wide = self.address.fontMetrics().horizontalAdvance("https://switchboard.corp.example.com:11488") + 40
        for field in (self.address, self.key):
            field.setMinimumWidth(wide)
        form.addRow("Address", self.address)
        form.addRow("Client key", self.key)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(self.check)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.check_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.hide()
        form.addRow(self.result)

    def read(self) -> None:
        """The saved address (and whether a key is kept), read on a worker thread."""
        self.page.context.tasks.run_blocking(
            lambda: read_team(self.page.context.setup), self._show, lambda m: None, self.page
        )

    def _show(self, read: tuple[Team | None, NetworkSettings]) -> None:
        self.saved, self.network = read
        self.address.setText(self.saved.url if self.saved is not None else "")
        self.key.clear()  # a kept key never comes back
        self.key.setPlaceholderText(KEPT if self.saved is not None and self.saved.key else NONE_KEPT)

    def _wanted(self) -> Team | None:
        """The team as the fields say (the kept key where none is typed); None for no address."""
        url = self.address.text().strip().rstrip("/")
        if not url:
            return None
        kept = self.saved.key if self.saved is not None and self.saved.url == url else None
        return Team(url, self.key.text().strip() or kept)

    def save(self) -> None:
        url = self.address.text().strip()
        if url and (problem := address_problem(url)):
            self.page.say(problem, error=True)
            return
        wanted = self._wanted()
        setup = self.page.context.setup

        def saved(edited: Edited) -> None:
            self._show((wanted, self.network or NetworkSettings()))
            if wanted is None:
                self.page.say(
                    "Your tools use this computer's Switchboard again; the team's client key is forgotten. "
                    "Set each tool up again on the Connect page."
                )
            elif edited.changed or self.key.text():
                self.page.say(
                    f"Saved. Set your tools up on the Connect page and they use the team's gateway at {wanted.url}."
                )
            else:
                self.page.say("Nothing to change.")

        def kept(_: Any) -> None:
            self.page.change_config([("app", "team_gateway", wanted.url if wanted else None)], saved)

        key = wanted.key if wanted is not None else None
        self.page.context.tasks.run_blocking(
            lambda: keep_key(setup, key), kept, lambda m: self.page.say(m, error=True), self.page
        )

    def check(self) -> None:
        url = self.address.text().strip()
        if problem := address_problem(url):
            self.page.say(problem, error=True)
            return
        wanted = self._wanted()
        if wanted is None:  # an address was typed: there is one
            return
        self.result.setStyleSheet("")
        self.result.setText(f"Asking the team's gateway at {wanted.url}…")
        self.result.show()
        self.check_button.setEnabled(False)
        spawn(self._check(wanted), owner=self)

    async def _check(self, team: Team) -> None:
        try:
            ok, said = await check_team(team, self.network)
        finally:
            self.check_button.setEnabled(True)
        self.result.setStyleSheet("" if ok else f"color: {BAD};")
        self.result.setText(said)
