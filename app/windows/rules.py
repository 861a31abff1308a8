"""Model rules: which models serve a name a tool asks for — exact names, patterns such as
``claude-*`` (tried top to bottom, so their order is kept and can be changed), a default model for
any name nothing else serves, and one model that serves every request whatever it names. Each change
is the whole list, sent to the gateway's admin door, which checks it, writes ``config.toml``,
applies it at once and keeps it in the audit log, or refuses it and says why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QInputDialog, QLabel, QPushButton, QWidget

from app.viewmodels.rules import (
    CLAUDE_CODE,
    default_of,
    enforce_choices,
    kind_words,
    moved,
    route_choices,
    saved_words,
    serves_words,
    with_default,
    with_rule,
    without,
)
from app.viewmodels.table import Column, field
from app.windows.confirm import confirm
from app.windows.page import ACTOR, Context, Page, rows_height, table
from app.windows.rule_dialog import RuleDialog
from gateway import ModelRow, RuleDoc, RulesRead, SettingsEdit, rule_doc

NO_DEFAULT = "None: a name nothing serves is refused"
AS_ASKED = "The model each tool asks for"


class RulesPage(Page):
    title = "Model rules"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.rules: list[RuleDoc] = []
        self.models: list[str] = []
        self.enforced: str | None = None
        self.dialog: RuleDialog | None = None  # the one open last
        intro = QLabel(
            "Send the requests for a model name to the models you choose. A pattern with * matches many "
            "names (claude-* matches every Claude model); an exact name wins, then patterns from the top down."
        )
        intro.setWordWrap(True)
        self.layout_.addWidget(intro)
        form = QFormLayout()
        self.default_box = QComboBox()
        self.default_box.setAccessibleName("Default model")
        self.default_box.activated.connect(lambda _: self.choose_default())
        form.addRow("&Default model", _beside(self.default_box, "for any name no rule and no provider serves"))
        self.enforce_box = QComboBox()
        self.enforce_box.setAccessibleName("Always use")
        self.enforce_box.activated.connect(lambda _: self.choose_enforced())
        form.addRow("&Always use", _beside(self.enforce_box, "for every request, whatever model a tool asks for"))
        self.layout_.addLayout(form)
        columns: list[Column[RuleDoc]] = [
            field("Name or pattern", "name"),
            Column("Kind", kind_words),
            Column("Sends to, in order", serves_words),
        ]
        self.view, self.model = table(columns)
        self.view.doubleClicked.connect(lambda _: self.edit())
        self.layout_.addWidget(self.view)
        self.empty = QLabel("No rules yet: every name goes to the providers that list it.")
        self.empty.setObjectName("muted")
        self.layout_.addWidget(self.empty)
        row = QHBoxLayout()
        self.rule_buttons: list[QPushButton] = []  # of a rule in the list: none to act on while there are none
        for words, act in (
            ("Add…", self.add),
            ("Change…", self.edit),
            ("Remove", self.remove),
            ("Move up", lambda: self.move_rule(-1)),
            ("Move down", lambda: self.move_rule(1)),
        ):
            button = QPushButton(words)
            button.clicked.connect(act)
            row.addWidget(button)
            self.rule_buttons += [button] if words != "Add…" else []
        row.addStretch(1)
        self.claude_button = QPushButton("Route Claude Code to…")
        self.claude_button.setToolTip("Every Claude model Claude Code asks for goes to the model you choose")
        self.claude_button.clicked.connect(lambda: self.route_claude_code())
        row.addWidget(self.claude_button)
        self.layout_.addLayout(row)
        self.layout_.addStretch(1)  # the buttons right under the list, the room left below them

    # --- what the gateway says ----------------------------------------------------------------

    def shown(self) -> None:
        self.ask(lambda control: control.models(), self._models)
        self.ask(lambda control: control.model_rules(), self._rules)

    def _models(self, rows: list[ModelRow]) -> None:
        self.models = route_choices(rows)
        self._fill_boxes()

    def _rules(self, read: RulesRead) -> None:
        chosen = self.selected_row()
        self.rules, self.enforced = read["rules"], read["enforce_model"]
        self.model.set_rows(self.rules)
        self.view.setMaximumHeight(rows_height(self.view, max(3, len(self.rules))))
        self.empty.setVisible(not self.rules)
        self.view.setVisible(bool(self.rules))  # no empty box: the line above says there are none
        for button in self.rule_buttons:
            button.setEnabled(bool(self.rules))
        if chosen is not None and chosen < len(self.rules):
            self.view.selectRow(chosen)
        self._fill_boxes()

    def _fill_boxes(self) -> None:
        default = default_of(self.rules)
        _fill(self.default_box, NO_DEFAULT, [*self.models, *([default] if default else [])], default)
        _fill(self.enforce_box, AS_ASKED, enforce_choices(self.rules, self.models), self.enforced)

    def selected_row(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    # --- changes ------------------------------------------------------------------------------

    def save(self, rules: list[RuleDoc], done: str, select: int | None = None) -> None:
        def saved(edit: SettingsEdit) -> None:
            self.say_done(done, edit["applied"], lambda: "In use now.")
            self.ask(lambda control: control.model_rules(), self._rules)
            if select is not None:
                self.view.selectRow(select)

        self.ask(lambda control: control.save_model_rules(rules, ACTOR), saved, self._refused_edit)

    def _refused_edit(self, words: str) -> None:
        self.say(words, error=True)
        self.ask(lambda control: control.model_rules(), self._rules)  # the boxes show what is in use

    def add(self) -> None:
        self._open(None, lambda rule: self.save(with_rule(self.rules, rule), saved_words(rule)))

    def edit(self) -> None:
        at = self.selected_row()
        if at is None:
            self.say("Choose a rule in the list first.", error=True)
            return
        self._open(self.rules[at], lambda rule: self.save(with_rule(self.rules, rule, at), saved_words(rule), at))

    def _open(self, rule: RuleDoc | None, save: Callable[[RuleDoc], None]) -> RuleDialog:
        dialog = RuleDialog(rule, self.models, save, self)
        dialog.open()
        self.dialog = dialog
        return dialog

    def remove(self) -> None:
        at = self.selected_row()
        if at is None:
            self.say("Choose a rule in the list first.", error=True)
            return
        name = self.rules[at]["name"]
        confirm(
            self,
            f"Remove the rule “{name}”?",
            "Requests for it go where they would with no rule: to the providers that list the name.",
            lambda: self.save(without(self.rules, at), f"The rule “{name}” is removed."),
        )

    def move_rule(self, step: int) -> None:
        at = self.selected_row()
        order = moved(self.rules, at, step) if at is not None else None
        if at is None or order is None:
            self.say("Choose a rule that can move that way first." if at is None else "It is there already.")
            return
        where = "before" if step < 0 else "after"
        self.save(
            order, f"“{self.rules[at]['name']}” is now tried {where} “{self.rules[at + step]['name']}”.", at + step
        )

    def route_claude_code(self) -> None:
        if not self.models:
            self.say("There is no model to send Claude Code to yet: add a provider first.", error=True)
            return
        model, ok = QInputDialog.getItem(
            self,
            "Route Claude Code to…",
            "Every Claude model Claude Code asks for goes to:",
            self.models,
            0,
            False,
        )
        if ok and model:
            self.claude_code_to(model)

    def claude_code_to(self, model: str) -> None:
        rule = rule_doc(CLAUDE_CODE, [model])
        self.save(with_rule(self.rules, rule), f"Claude Code's requests now go to {model}, no Anthropic key needed.")

    def choose_default(self) -> None:
        model = self.default_box.currentData()
        if model == default_of(self.rules):
            return
        words = f"Any name nothing else serves now goes to {model}." if model else "There is no default model now."
        self.save(with_default(self.rules, model), words)

    def choose_enforced(self) -> None:
        name = self.enforce_box.currentData()
        if name == self.enforced:
            return

        def saved(edit: SettingsEdit) -> None:
            said = f"Every request is now served by {name}." if name else "Each request goes to the model it asks for."
            self.say_done(said, edit["applied"], lambda: "In use now.")
            self.ask(lambda control: control.model_rules(), self._rules)

        self.ask(lambda control: control.enforce_model(name, ACTOR), saved, self._refused_edit)


def _beside(box: QComboBox, words: str) -> QWidget:
    """A choice as wide as its longest model name, what it does said after it."""
    box.setMinimumContentsLength(28)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    said = QLabel(words)
    said.setObjectName("muted")
    said.setWordWrap(True)
    row = QWidget()
    line = QHBoxLayout(row)
    line.setContentsMargins(0, 0, 0, 0)
    line.addWidget(box)
    line.addWidget(said, 1)
    return row


def _fill(box: QComboBox, none: str, choices: list[str], current: Any) -> None:
    """The box's choices: ``none`` (no data) first, then each choice once, ``current`` chosen (added
    when the list of models does not have it, so what is in use always shows)."""
    box.clear()
    box.addItem(none, None)
    for choice in dict.fromkeys([*choices, *([current] if current else [])]):
        box.addItem(choice, choice)
    box.setCurrentIndex(max(0, box.findData(current)) if current else 0)
