"""The Connect page against a temporary home and a real in-process gateway with a fake upstream:
"Set up…" asks which model (the gateway's are offered), writes the tool's file and sends a test
request in the tool's own protocol, whose answer is shown; "Restore" puts the file back byte for
byte after asking; a client key is made for the tool where the gateway needs one; Settings'
"Restore tool settings…" puts back every file; Cursor is said to be out of reach."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from app_fixtures import KEY, LoopThread, MakeApp
from conftest import provider_table
from fakes.openai_upstream import FakeOpenAI
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from app.application import Application
from app.windows.connect import ConnectPage
from app.windows.settings import SettingsPage
from gateway import ToolPlaces

WAIT = 15_000
RATED = '[models."fake/gpt-test"]\nrating = 2\n'  # rated: auto may pick it
CLAUDE_SETTINGS = b'{\n  // mine\n  "env": {"MY_FLAG": "1"},\n  "theme": "dark"\n}\n'


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every tool's files under a temporary home; no program found on PATH."""
    folder = tmp_path / "tool-home"
    folder.mkdir()

    def for_user(cls: type[ToolPlaces], state: Path) -> ToolPlaces:
        return cls(home=folder, state=state, env={}, which=lambda name: None, platform="linux")

    monkeypatch.setattr(ToolPlaces, "for_user", classmethod(for_user))
    return folder


def connect_page(qtbot: QtBot, make_app: MakeApp, fake: FakeOpenAI, extra: str = "") -> tuple[Application, ConnectPage]:
    app = make_app({"FAKE_KEY": KEY}, extra + provider_table("fake", fake) + RATED)
    page = app.window.go(ConnectPage.title)
    assert isinstance(page, ConnectPage)
    qtbot.waitUntil(lambda: page.current() is not None, timeout=WAIT)  # the tools' states are read
    return app, page


def set_up(qtbot: QtBot, page: ConnectPage, tool: str, model: str | None) -> None:
    page.choose(tool)
    qtbot.waitUntil(lambda: page.current() is not None, timeout=WAIT)
    page.model_dialog = None
    page.set_up_button.click()
    if model is not None:
        qtbot.waitUntil(lambda: page.model_dialog is not None and page.model_dialog.isVisible(), timeout=WAIT)
        assert page.model_dialog is not None
        assert "fake/gpt-test" in page.model_dialog.comboBoxItems()  # the gateway's models are offered
        page.model_dialog.setTextValue(model)
        page.model_dialog.accept()
    qtbot.waitUntil(
        lambda: page.result.property("tool") == tool and not page.result.text().startswith("Sending"), timeout=WAIT
    )


def press(box: QMessageBox | None, text: str) -> None:
    assert box is not None
    button = next(b for b in box.buttons() if b.text() == text)
    button.click()


def test_set_up_claude_code_test_it_and_restore_it(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, home: Path
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_bytes(CLAUDE_SETTINGS)
    app, page = connect_page(qtbot, make_app, fake)
    page.choose("Claude Code")
    qtbot.waitUntil(lambda: "does not use Switchboard yet" in page.state_line.text(), timeout=WAIT)
    assert not page.restore_button.isEnabled() and not page.test_button.isEnabled()

    set_up(qtbot, page, "Claude Code", "fake/gpt-test")

    assert "It works. The model answered" in page.result.text(), page.result.text()
    assert "Claude Code now uses Switchboard with the model fake/gpt-test" in page.note.text()
    text = settings.read_text(encoding="utf-8")
    assert "// mine" in text and '"MY_FLAG": "1"' in text
    assert f'"ANTHROPIC_BASE_URL": "{app.host.url}"' in text and '"CLAUDE_CODE_SUBAGENT_MODEL": "fake/gpt-test"' in text
    assert "is set up to use Switchboard" in page.state_line.text() and page.restore_button.isEnabled()

    page.restore_button.click()
    press(page.question, "Restore")
    qtbot.waitUntil(lambda: settings.read_bytes() == CLAUDE_SETTINGS, timeout=WAIT)
    qtbot.waitUntil(lambda: "back as they were" in page.note.text(), timeout=WAIT)
    assert not page.restore_button.isEnabled()
    fakes.run(fake.stop())


def test_codex_and_vscode_are_tested_in_their_own_protocols(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, home: Path
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    _app, page = connect_page(qtbot, make_app, fake)

    set_up(qtbot, page, "Codex CLI", "fake/gpt-test")
    assert "It works" in page.result.text(), page.result.text()
    config = tomllib.loads((home / ".codex" / "config.toml").read_text(encoding="utf-8"))
    assert config["model"] == "fake/gpt-test" and config["model_provider"] == "switchboard"

    set_up(qtbot, page, "VS Code Copilot Chat", None)  # its model is chosen in VS Code's picker
    assert "It works" in page.result.text(), page.result.text()
    vscode = json.loads((home / ".config/Code/User/settings.json").read_text(encoding="utf-8"))
    assert vscode == {"github.copilot.chat.byok.ollamaEndpoint": page.url}

    page.choose("Cursor")  # no snippet that cannot work: why, in words
    assert "cannot reach Switchboard" in page.where.text()
    assert not page.text.isVisible() and not page.setup_box.isVisible()
    page.choose("curl")
    assert page.url in page.text.toPlainText() and not page.setup_box.isVisible()
    curl = page.text.height()
    page.choose("Claude Code")  # more lines, a taller box: each as tall as its text, not the page
    assert curl < page.text.height() < page.height() / 2 and "prefer to set it yourself" in page.by_hand.text()
    fakes.run(fake.stop())


def test_a_client_key_is_made_for_the_tool_where_keys_are_needed(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, home: Path
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app, page = connect_page(qtbot, make_app, fake, "[server]\nrequire_keys = true\n")
    page.choose("curl")
    qtbot.waitUntil(page.key_note.isVisible, timeout=WAIT)  # the status says keys are needed

    set_up(qtbot, page, "Continue", "fake/gpt-test")

    assert "It works" in page.result.text(), page.result.text()
    written = (home / ".continue" / "config.yaml").read_text(encoding="utf-8")
    labels = [key["label"] for key in app.host.call(lambda control: control.keys()).result(5)]
    assert labels == ["Continue"] and '"sk-' in written

    page._client_keys.clear()  # as in a later session: the tool's key is in its file only
    page.result.setText("")
    page.test_button.click()
    qtbot.waitUntil(lambda: page.result.text().startswith(("It works", "Switchboard")), timeout=WAIT)
    assert page.result.text().startswith("It works"), page.result.text()  # the app's own key stood in
    fakes.run(fake.stop())


def test_settings_restores_every_tool(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, home: Path) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app, page = connect_page(qtbot, make_app, fake)
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_bytes(CLAUDE_SETTINGS)
    set_up(qtbot, page, "Claude Code", "fake/gpt-test")
    set_up(qtbot, page, "OpenCode", "fake/gpt-test")
    opencode = home / ".config" / "opencode" / "opencode.json"
    assert opencode.is_file()

    settings_page = app.window.go(SettingsPage.title)
    assert isinstance(settings_page, SettingsPage)
    button = next(b for b in settings_page.findChildren(QPushButton) if b.text() == "Restore tool settings…")
    button.click()
    press(settings_page.findChildren(QMessageBox)[-1], "Restore")

    qtbot.waitUntil(lambda: "2 files put back" in settings_page.note.text(), timeout=WAIT)
    assert settings.read_bytes() == CLAUDE_SETTINGS and not opencode.exists()
    fakes.run(fake.stop())
