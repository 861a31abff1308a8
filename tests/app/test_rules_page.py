"""The Model rules page against a real in-process gateway and a fake upstream: a rule added in the
app lands in config.toml, in order, and routes a request at once; a refused one says why and
changes nothing; the default model, "Always use" and "Route Claude Code to…" are model rules too."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from app_fixtures import KEY, LoopThread, MakeApp
from conftest import provider_table
from fakes.openai_upstream import FakeOpenAI
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.application import PAGES
from app.try_chat import Tried, try_through
from app.viewmodels.rules import kind_words
from app.windows.models import ModelsPage
from app.windows.rules import RulesPage
from gateway import AuditEntry, rule_doc

T = TypeVar("T")
WAIT = 15_000
ALIASES = '[aliases]\n# my own\nquick = ["fake/gpt-test"]\n'


def rules_page(qtbot: QtBot, make_app: MakeApp, fake: FakeOpenAI) -> RulesPage:
    app = make_app({"FAKE_KEY": KEY}, provider_table("fake", fake) + ALIASES)
    page = app.window.go(RulesPage.title)
    assert isinstance(page, RulesPage)
    qtbot.waitUntil(lambda: len(page.models) > 0 and len(page.rules) == 1, timeout=WAIT)
    return page


def config_of(page: RulesPage) -> Path:
    return page.context.setup.paths.config_file


def awaited(qtbot: QtBot, work: Coroutine[Any, Any, T]) -> T:
    task = asyncio.ensure_future(work)  # on the Qt thread's loop, which runs while qtbot waits
    qtbot.waitUntil(task.done, timeout=WAIT)
    return task.result()


def ask(qtbot: QtBot, page: RulesPage, model: str) -> Tried:
    """One chat request for ``model`` through the gateway's own address, as a tool sends it."""
    return awaited(qtbot, try_through(page.context.tasks, page.context.host.url, model, "Hi", lambda _: None))


def saved(qtbot: QtBot, page: RulesPage, words: str) -> None:
    qtbot.waitUntil(lambda: words in page.note.text(), timeout=WAIT)
    assert not page.note.property("error"), page.note.text()


def test_the_page_follows_models() -> None:
    assert PAGES[PAGES.index(ModelsPage) + 1] is RulesPage


def test_a_rule_added_in_the_app_is_in_the_file_and_routes_a_request_at_once(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    page = rules_page(qtbot, make_app, fake)
    assert page.models == ["fake/gpt-test", "fake/gpt-other"]  # no embeddings model, no alias, no auto
    assert [page.model.text(0, c) for c in range(3)] == ["quick", "Exact name", "fake/gpt-test"]
    page.add()
    assert page.dialog is not None
    page.dialog.name.setText("claude-*")
    page.dialog.choice.setCurrentText("fake/gpt-other")
    page.dialog.accept()
    saved(qtbot, page, "Names like “claude-*” now go to fake/gpt-other. In use now.")
    qtbot.waitUntil(lambda: len(page.rules) == 2, timeout=WAIT)
    assert page.model.text(1, 1) == "Pattern"
    text = config_of(page).read_text(encoding="utf-8")
    assert "# my own" in text  # the rule before it kept, comment and all
    assert tomllib.loads(text)["aliases"] == {"quick": ["fake/gpt-test"], "claude-*": ["fake/gpt-other"]}
    tried = ask(qtbot, page, "claude-opus-4-8")  # Claude Code's name, served with no Anthropic key
    assert tried.route.startswith("fake/gpt-other") and fake.chat_requests[-1].json["model"] == "gpt-other"
    events: list[AuditEntry] = awaited(qtbot, page.context.tasks.ask(lambda control: control.audit_events()))
    assert any(e["action"] == "config.edited" and "aliases.claude-*" in e["payload"]["keys"] for e in events)
    fakes.run(fake.stop())


def test_a_refused_rule_says_why_and_changes_nothing(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    page = rules_page(qtbot, make_app, fake)
    before = config_of(page).read_text(encoding="utf-8")
    for name, route, why in (
        ("claude *", "fake/gpt-test", "“claude *” cannot be a rule's name"),
        ("claude-[", "fake/gpt-test", "each “[” needs its “]”"),
        ("coding", "fake/gpt-nothing", "fake does not list “gpt-nothing”"),
        ("coding", "elsewhere/gpt-test", "There is no provider “elsewhere” set up"),
        ("auto", "fake/gpt-test", "“auto” is Switchboard's own choice of model"),
        ("quick", "fake/gpt-other", "There are two rules for “quick”"),
    ):
        page.say("")
        rule = {"name": name, "kind": "alias", "routes": [route]}
        page.save([*page.rules, rule], "saved")  # type: ignore[list-item]
        qtbot.waitUntil(lambda: bool(page.note.property("error")), timeout=WAIT)
        assert why in page.note.text()
    assert config_of(page).read_text(encoding="utf-8") == before
    page.enforce_box.addItem("gpt-nothing", "gpt-nothing")
    page.enforce_box.setCurrentIndex(page.enforce_box.count() - 1)
    page.say("")
    page.choose_enforced()
    qtbot.waitUntil(lambda: bool(page.note.property("error")), timeout=WAIT)
    assert "No provider lists “gpt-nothing”, and no rule has that name" in page.note.text()
    qtbot.waitUntil(lambda: page.enforce_box.currentData() is None, timeout=WAIT)  # back to what is in use
    assert config_of(page).read_text(encoding="utf-8") == before
    fakes.run(fake.stop())


def test_order_default_always_use_and_claude_code(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    page = rules_page(qtbot, make_app, fake)
    page.claude_code_to("fake/gpt-other")
    saved(qtbot, page, "Claude Code's requests now go to fake/gpt-other")
    page.add()
    assert page.dialog is not None
    page.dialog.name.setText("claude-haiku-*")
    page.dialog.choice.setCurrentText("fake/gpt-test")
    page.dialog.accept()
    saved(qtbot, page, "Names like “claude-haiku-*”")
    qtbot.waitUntil(lambda: len(page.rules) == 3, timeout=WAIT)
    assert ask(qtbot, page, "claude-haiku-4-5").route.startswith("fake/gpt-other")  # claude-* comes first
    page.view.selectRow(2)
    page.move_rule(-1)
    saved(qtbot, page, "“claude-haiku-*” is now tried before “claude-*”")
    aliases = tomllib.loads(config_of(page).read_text(encoding="utf-8"))["aliases"]
    assert list(aliases) == ["quick", "claude-haiku-*", "claude-*"]
    assert ask(qtbot, page, "claude-haiku-4-5").route.startswith("fake/gpt-test")  # at once
    assert page.selected_row() == 1

    page.default_box.setCurrentIndex(page.default_box.findData("fake/gpt-other"))
    page.choose_default()
    saved(qtbot, page, "Any name nothing else serves now goes to fake/gpt-other")
    assert tomllib.loads(config_of(page).read_text(encoding="utf-8"))["aliases"]["default"] == ["fake/gpt-other"]
    assert ask(qtbot, page, "no-such-model").route.startswith("fake/gpt-other")

    page.enforce_box.setCurrentIndex(page.enforce_box.findData("quick"))
    page.choose_enforced()
    saved(qtbot, page, "Every request is now served by quick.")
    assert tomllib.loads(config_of(page).read_text(encoding="utf-8"))["routing"]["enforce_model"] == "quick"
    assert ask(qtbot, page, "claude-opus-4-8").route.startswith("fake/gpt-test")

    page.view.selectRow(1)
    page.remove()
    box = page.findChild(QMessageBox)
    assert isinstance(box, QMessageBox)
    next(b for b in box.buttons() if b.text() == "Remove").click()
    saved(qtbot, page, "The rule “claude-haiku-*” is removed.")
    aliases = tomllib.loads(config_of(page).read_text(encoding="utf-8"))["aliases"]
    assert list(aliases) == ["quick", "claude-*", "default"]

    page.enforce_box.setCurrentIndex(0)  # back to the model each tool asks for, and no default
    page.choose_enforced()
    saved(qtbot, page, "Each request goes to the model it asks for.")
    page.default_box.setCurrentIndex(0)
    page.choose_default()
    saved(qtbot, page, "There is no default model now.")
    written = tomllib.loads(config_of(page).read_text(encoding="utf-8"))
    assert "enforce_model" not in written.get("routing", {}) and list(written["aliases"]) == ["quick", "claude-*"]
    page.claude_code_to("fake/gpt-test")  # the rule there already is changed in place
    saved(qtbot, page, "Claude Code's requests now go to fake/gpt-test")
    written = tomllib.loads(config_of(page).read_text(encoding="utf-8"))
    assert written["aliases"] == {"quick": ["fake/gpt-test"], "claude-*": ["fake/gpt-test"]}
    fakes.run(fake.stop())


def test_claude_codes_own_kinds_of_request_are_named() -> None:
    slot = rule_doc("claude-code:subagent", ["fake/gpt-test"])
    assert kind_words(slot) == "Claude Code's sub-agents" and kind_words(rule_doc("x-*", ["a/b"])) == "Pattern"
