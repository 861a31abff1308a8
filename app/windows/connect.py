"""Connect a tool: Claude Code, Codex CLI, VS Code Copilot Chat, Continue and OpenCode are set up
here with one click — whether each is installed and set up, "Set up…" (which model, of those the
gateway serves; a client key made for it where the gateway asks for one), "Restore" (the tool's own
settings back exactly), and a test request in that tool's own protocol with its answer shown. The
rest (the SDKs, curl) get settings ready to copy; Cursor, which cannot reach this computer, is
said to be so. Where Settings names a team's gateway, the tools are set up for its address and
client key instead of this computer's (app/team.py). The files are written on a worker thread,
through the gateway's set-up door (the one the command line uses)."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.colours import BAD, GOOD, IDLE
from app.gateway_host import NotServing
from app.icons import dot
from app.tasks import spawn
from app.team import Team, read_team
from app.tool_check import check
from app.viewmodels.snippets import DEFAULT_URL, KEY_PLACEHOLDER, Snippet, snippets
from app.viewmodels.tool_check import probe
from app.windows.confirm import confirm
from app.windows.page import ACTOR, Context, Page
from gateway import CreatedKey, ModelRow, StatusDocument, ToolPlaces, ToolSetup, ToolState, ToolTarget

AUTO = "auto"
ERROR_STYLE = f"color: {BAD};"
MOST_LINES = 16  # a longer snippet scrolls in its box
KEYS_NOTE = (
    "This gateway asks every caller for a client key: make one under Settings, Client keys, and put it "
    f"in place of {KEY_PLACEHOLDER}. Set up makes one by itself."
)


def state_words(state: ToolState) -> str:
    name = state["name"]
    if state["connected"]:
        said = f"{name} is set up to use Switchboard."
    elif state["changed"]:
        said = f"{name} was set up for Switchboard at another address. Set it up again to use this one."
    elif state["installed"]:
        said = f"{name} is on this computer and does not use Switchboard yet."
    else:
        said = f"{name} was not found on this computer. Set it up now and it uses Switchboard once installed."
    if state["changed"]:
        said += " Restore puts its own settings back as they were."
    return said


class ConnectPage(Page):
    title = "Connect a tool"

    def __init__(self, context: Context, places: ToolPlaces | None = None) -> None:
        super().__init__(context)
        self._places = places  # tests' temporary home; else this user's, in the state folder of now
        self._keys_needed = False
        self._team: Team | None = None  # a team's gateway the tools use instead of this one, as saved
        self._filled_url = ""
        self._snippets: list[Snippet] = []
        self._states: dict[str, ToolState] = {}  # by the tool's name
        self._models: dict[str, str] = {}  # the model each tool was set up with, to test it
        self._client_keys: dict[str, str] = {}  # keys made for tools this session, to test them
        self.model_dialog: QInputDialog | None = None
        self.question: QMessageBox | None = None  # the last confirmation asked (tests press its buttons)

        intro = QLabel(
            "Switchboard sets up the coding tools it knows for you: it keeps a copy of the tool's own settings "
            "first, and Restore puts them back exactly. For the others, copy their settings from here."
        )
        intro.setWordWrap(True)
        self.team_line = QLabel()
        self.team_line.setObjectName("notice")
        self.team_line.setWordWrap(True)
        self.team_line.hide()
        self.layout_.addWidget(self.team_line)
        self.layout_.addWidget(intro)
        body = QHBoxLayout()
        self.tools = QListWidget()
        self.tools.setObjectName("tools")
        self.tools.setFixedWidth(220)
        self.tools.setAccessibleName("Tools")
        self.tools.currentRowChanged.connect(self._show)
        column = QVBoxLayout()
        column.addWidget(self.tools, 1)
        legend = QLabel(
            f'<span style="color:{GOOD}">●</span> set up &nbsp; <span style="color:{IDLE}">●</span> installed'
        )
        legend.setObjectName("muted")
        column.addWidget(legend)
        body.addLayout(column)
        right = QVBoxLayout()
        self.setup_box = QWidget()
        box = QVBoxLayout(self.setup_box)
        box.setContentsMargins(0, 0, 0, 0)
        self.state_line = QLabel()
        self.state_line.setWordWrap(True)
        box.addWidget(self.state_line)
        buttons = QHBoxLayout()
        self.set_up_button = QPushButton("Set up…")
        self.set_up_button.clicked.connect(lambda: self.set_up())
        self.restore_button = QPushButton("Restore")
        self.restore_button.clicked.connect(lambda: self.restore())
        self.test_button = QPushButton("Send a test")
        self.test_button.clicked.connect(lambda: self.test())
        for button in (self.set_up_button, self.restore_button, self.test_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.hide()
        box.addWidget(self.result)
        self.by_hand = QLabel("Set up is all most people need. If you prefer to set it yourself, here is how:")
        self.by_hand.setWordWrap(True)
        box.addWidget(self.by_hand)
        right.addWidget(self.setup_box)
        self.where = QLabel()
        self.where.setWordWrap(True)
        right.addWidget(self.where)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        right.addWidget(self.text)
        self.key_note = QLabel(KEYS_NOTE)
        self.key_note.setWordWrap(True)
        self.key_note.hide()
        right.addWidget(self.key_note)
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(lambda: self.context.copy(self.text.toPlainText()))
        right.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignRight)
        right.addStretch(1)  # the room left under the snippet, not inside its box
        body.addLayout(right, 1)
        self.layout_.addLayout(body, 1)
        self._fill()  # the tools' states are read once the page is shown (no loop runs yet here)

    # --- what is shown --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The gateway the tools are set up for: the team's where one is saved, else this computer's."""
        if self._team is not None:
            return self._team.url
        return (self.context.host.url or DEFAULT_URL).rstrip("/")

    @property
    def keys_needed(self) -> bool:
        return self._team is not None or self._keys_needed

    def _setup(self) -> ToolSetup:
        return ToolSetup(self._places or ToolPlaces.for_user(self.context.setup.paths.data_dir))

    def _fill(self) -> None:
        current = self.tools.currentRow()
        self._filled_url = self.url
        self._snippets = snippets(self.url, KEY_PLACEHOLDER if self.keys_needed else None)
        if self.tools.count() != len(self._snippets):
            self.tools.clear()
            self.tools.addItems([s.tool for s in self._snippets])
            self._mark()
        self.tools.setCurrentRow(max(0, current))
        self._show(self.tools.currentRow())

    def current(self) -> ToolState | None:
        """The chosen tool's state, when it is one Switchboard sets up."""
        row = self.tools.currentRow()
        return self._states.get(self._snippets[row].tool) if 0 <= row < len(self._snippets) else None

    def _show(self, row: int) -> None:
        if not 0 <= row < len(self._snippets):
            return
        snippet = self._snippets[row]
        self.where.setText(snippet.where)
        self.text.setPlainText(snippet.text)
        self._fit_text(snippet.text)
        self.text.setVisible(bool(snippet.text))
        self.copy_button.setVisible(bool(snippet.text))
        self.key_note.setVisible(self.keys_needed and bool(snippet.text))
        state = self._states.get(snippet.tool)
        self.setup_box.setVisible(state is not None)
        if state is not None:
            self.state_line.setText(state_words(state))
            self.restore_button.setEnabled(state["changed"])
            self.test_button.setEnabled(state["connected"])
        if self.result.property("tool") != snippet.tool:
            self.result.hide()

    def _fit_text(self, text: str) -> None:
        """The snippet's box as tall as its lines (and a sideways scroll bar's room), not the page's height."""
        lines = min(text.count("\n") + 1, MOST_LINES)
        margins = 2 * (self.text.frameWidth() + round(self.text.document().documentMargin()))
        scroll = self.text.horizontalScrollBar().sizeHint().height()
        self.text.setFixedHeight(lines * self.text.fontMetrics().lineSpacing() + margins + scroll + 4)

    def choose(self, tool: str) -> None:
        names = [s.tool for s in self._snippets]
        if tool in names:
            self.tools.setCurrentRow(names.index(tool))

    def shown(self) -> None:
        """The team's gateway, if any, read again (Settings may have changed it), then the tools' states."""
        setup = self.context.setup
        self.context.tasks.run_blocking(lambda: read_team(setup)[0], self._got_team, self._no_team, self)

    def _got_team(self, team: Team | None) -> None:
        self._team = team
        self.team_line.setText(f"Your tools use the team's gateway at {team.url}." if team is not None else "")
        self.team_line.setVisible(team is not None)
        self.key_note.setText(
            f"Put the team's client key in place of {KEY_PLACEHOLDER}. Set up puts it in by itself."
            if team is not None
            else KEYS_NOTE
        )
        self._fill()
        self.refresh_tools()

    def _no_team(self, message: str) -> None:
        """The settings cannot be read (the pages say why): the tools as they were."""
        self.refresh_tools()

    def show_status(self, status: StatusDocument | None) -> None:
        needed = status is not None and "access" in status and status["access"]["require_keys"]
        if needed != self._keys_needed or self.url != self._filled_url:
            self._keys_needed = needed
            self._fill()
            self.refresh_tools()

    def refresh_tools(self) -> None:
        """Whether each tool is installed and set up, read from its files on a worker thread."""
        setup, url = self._setup(), self.url
        self.context.tasks.run_blocking(lambda: setup.states(url), self._got_states, lambda m: None, self)

    def _got_states(self, states: list[ToolState]) -> None:
        self._states = {state["name"]: state for state in states}
        self._mark()
        self._show(self.tools.currentRow())

    def _updated(self, state: ToolState) -> None:
        self._states[state["name"]] = state
        self._mark()
        self._show(self.tools.currentRow())

    def _mark(self) -> None:
        """Each tool in the list marked with its state: green set up, grey on this computer only."""
        for row, snippet in enumerate(self._snippets):
            item = self.tools.item(row)
            state = self._states.get(snippet.tool)
            if item is None:
                continue
            colour = "" if state is None else GOOD if state["connected"] else IDLE if state["installed"] else ""
            item.setIcon(dot(colour))
            item.setToolTip(state_words(state) if state is not None else snippet.where)

    # --- set up, restore, test ------------------------------------------------------------------

    def set_up(self) -> None:
        """Ask which model (of those the gateway serves) and set the chosen tool up for it."""
        state = self.current()
        if state is None:
            return
        if not state["uses_model"]:
            self._with_key(state, AUTO)
            return
        if self.context.host.serving and self._team is None:  # the team's models are the team's to say
            self.ask(lambda control: control.models(), lambda rows: self._ask_model(state, rows), lambda m: None)
        else:
            self._ask_model(state, [])

    def _ask_model(self, state: ToolState, rows: list[ModelRow]) -> None:
        offered = [AUTO, *(row["id"] for row in rows if row["id"] != AUTO)]
        dialog = QInputDialog(self)
        dialog.setWindowTitle(f"Set up {state['name']}")
        dialog.setLabelText(
            f"Which model should {state['name']} use? With “auto”, Switchboard picks a model that works for "
            "each request."
        )
        dialog.setComboBoxItems(offered)
        dialog.setComboBoxEditable(True)
        dialog.setTextValue(self._models.get(state["id"], AUTO))
        dialog.setOkButtonText("Set up")
        dialog.textValueSelected.connect(lambda model: self._with_key(state, model.strip() or AUTO))
        self.model_dialog = dialog
        dialog.open()

    def _with_key(self, state: ToolState, model: str) -> None:
        """Where the gateway asks every caller for a key, one is made for the tool first; a team's
        gateway's is the one saved for it."""
        if self._team is not None:
            self._write(state, model, self._team.key)
            return
        if not self._keys_needed:
            self._write(state, model, None)
            return
        if not self.context.host.serving:
            self.say(f"Switchboard must be running to make a client key for {state['name']}.", error=True)
            return

        def made(created: CreatedKey) -> None:
            self._client_keys[state["id"]] = created["key"]
            self._write(state, model, created["key"])

        self.ask(lambda control: control.create_key(state["name"], "standard", {}, ACTOR), made)

    def _write(self, state: ToolState, model: str, key: str | None) -> None:
        setup, target, team = self._setup(), ToolTarget(self.url, key, model), self._team is not None
        self.say(f"Setting up {state['name']}…")

        def done(new: ToolState) -> None:
            self._models[new["id"]] = model
            chosen = f" with the model {model}" if new["uses_model"] else ""
            where = "the team's gateway" if team else "Switchboard"
            self.say(f"{new['name']} now uses {where}{chosen}. Restore puts its own settings back.")
            self._updated(new)
            self.test()

        self.context.tasks.run_blocking(
            lambda: setup.set_up(state["id"], target), done, lambda m: self.say(m, error=True), self
        )

    def restore(self) -> None:
        """After asking: the tool's own settings back, byte for byte."""
        state = self.current()
        if state is None:
            return
        self.question = confirm(
            self,
            f"Restore {state['name']}'s own settings?",
            f"{state['name']} stops using Switchboard and goes back to the settings it had before it was set up.",
            lambda: self._restore(state),
            act="Restore",
        )

    def _restore(self, state: ToolState) -> None:
        setup, url = self._setup(), self.url

        def done(new: ToolState) -> None:
            self.say(f"{new['name']}'s own settings are back as they were.")
            self._client_keys.pop(new["id"], None)
            self._updated(new)

        self.context.tasks.run_blocking(
            lambda: setup.restore(state["id"], url), done, lambda m: self.say(m, error=True), self
        )

    def test(self) -> None:
        """A request in the chosen tool's own protocol, its answer shown under the buttons."""
        state = self.current()
        if state is None:
            return
        model = self._models.get(state["id"], AUTO)
        protocol = probe(state["id"], model, None).protocol
        self.result.setProperty("tool", state["name"])
        self.result.setStyleSheet("")
        self.result.setText(f"Sending a test request as {state['name']} does ({protocol})…")
        self.result.show()
        spawn(self._test(state["name"], state["id"], model), owner=self)

    async def _test(self, name: str, tool_id: str, model: str) -> None:
        key = self._team.key if self._team is not None else self._client_keys.get(tool_id)
        if (
            key is None and self._keys_needed and self._team is None
        ):  # the tool's own was made in an earlier session: the app's stands in
            with contextlib.suppress(NotServing):  # not running: the test says so
                key = await self.context.tasks.ask(lambda control: control.app_key())
        ok, said = await check(self.url, tool_id, probe(tool_id, model, key))
        if self.result.property("tool") == name:
            self.result.setStyleSheet("" if ok else ERROR_STYLE)
            self.result.setText(said)
