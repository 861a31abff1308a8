"""The app as a client of a team's gateway (issue 25, point 4): Settings keeps the team's address
in the settings file and its client key in the secret store (never the file); "Check" says in
words whether the team's gateway answers and takes the key; the Connect page then sets the tools
up for the team's address and key, says so at its top, and points them back at this computer's
gateway once the address is cleared. The team is a second gateway, started here, asking for keys."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_fixtures import KEY, LoopThread, MakeApp
from conftest import LOCAL_OFF, provider_table
from fakes.openai_upstream import FakeOpenAI
from pytestqt.qtbot import QtBot

from app.application import Application
from app.team import TEAM_KEY
from app.windows.connect import ConnectPage
from app.windows.settings import SettingsPage
from gateway import ConfigError, GatewayServer, ToolPlaces, load_settings
from gateway.store.secrets import MemorySecrets

WAIT = 15_000
RATED = '[models."fake/gpt-test"]\nrating = 2\n'  # rated: auto may pick it


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every tool's files under a temporary home; no program found on PATH."""
    folder = tmp_path / "tool-home"
    folder.mkdir()

    def for_user(cls: type[ToolPlaces], state: Path) -> ToolPlaces:
        return cls(home=folder, state=state, env={}, which=lambda name: None, platform="linux")

    monkeypatch.setattr(ToolPlaces, "for_user", classmethod(for_user))
    return folder


@pytest.fixture
def upstream(fakes: LoopThread) -> Iterator[FakeOpenAI]:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    yield fake
    fakes.run(fake.stop())


@pytest.fixture
def team(fakes: LoopThread, upstream: FakeOpenAI, tmp_path: Path) -> Iterator[tuple[GatewayServer, str]]:
    """The team's gateway, asking every caller for a client key, and one made for this computer."""
    config = tmp_path / "team.toml"
    config.write_text(LOCAL_OFF + "[server]\nrequire_keys = true\n" + provider_table("fake", upstream) + RATED)
    state = tmp_path / "team-state"
    state.mkdir(mode=0o700)
    settings = load_settings(config, {"FAKE_KEY": KEY}, port=0)
    server = GatewayServer(settings, data_dir=state, secrets=MemorySecrets())
    fakes.run(server.start())
    assert server.control is not None
    control = server.control
    created = fakes.run(control.create_key("laptop", "standard", {}, "test"))
    yield server, created["key"]
    fakes.run(server.stop())


def settings_page(qtbot: QtBot, app: Application) -> SettingsPage:
    page = app.window.go(SettingsPage.title)
    assert isinstance(page, SettingsPage)
    qtbot.waitUntil(lambda: page.team.network is not None, timeout=WAIT)  # the saved team was read
    return page


def save_team(qtbot: QtBot, page: SettingsPage, address: str, key: str) -> None:
    page.note.setText("")
    page.team.address.setText(address)
    page.team.key.setText(key)
    page.team.save_button.click()
    qtbot.waitUntil(lambda: page.note.text() != "", timeout=WAIT)


def check(qtbot: QtBot, page: SettingsPage, key: str) -> str:
    page.team.key.setText(key)
    page.team.check_button.click()
    qtbot.waitUntil(
        lambda: page.team.check_button.isEnabled() and "Asking" not in page.team.result.text(), timeout=WAIT
    )
    return page.team.result.text()


def set_up_codex(qtbot: QtBot, app: Application, url: str) -> tuple[ConnectPage, dict[str, object]]:
    """Codex set up from the Connect page, once the page has read which gateway (``url``) the tools use."""
    page = app.window.go(ConnectPage.title)
    assert isinstance(page, ConnectPage)
    qtbot.waitUntil(lambda: page.current() is not None and page.url == url, timeout=WAIT)
    page.choose("Codex CLI")
    page.model_dialog = None
    page.result.setProperty("tool", None)  # an earlier set-up's answer is not this one's
    page.set_up_button.click()
    qtbot.waitUntil(lambda: page.model_dialog is not None and page.model_dialog.isVisible(), timeout=WAIT)
    assert page.model_dialog is not None
    page.model_dialog.setTextValue("fake/gpt-test")
    page.model_dialog.accept()
    qtbot.waitUntil(
        lambda: page.result.property("tool") == "Codex CLI" and not page.result.text().startswith("Sending"),
        timeout=WAIT,
    )
    home = ToolPlaces.for_user(Path()).home
    return page, tomllib.loads((home / ".codex" / "config.toml").read_text(encoding="utf-8"))


def test_tools_use_the_team_gateway_its_key_kept_as_a_secret_and_back(
    qtbot: QtBot, make_app: MakeApp, upstream: FakeOpenAI, team: tuple[GatewayServer, str], home: Path
) -> None:
    server, key = team
    app = make_app({"FAKE_KEY": KEY}, provider_table("fake", upstream) + RATED)
    page = settings_page(qtbot, app)

    save_team(qtbot, page, server.url, key)
    assert page.note.text().startswith("Saved."), page.note.text()
    assert app.secrets.get(TEAM_KEY) == key  # type: ignore[attr-defined]
    written = page.context.setup.paths.config_file.read_text(encoding="utf-8")
    assert key not in written and tomllib.loads(written)["app"]["team_gateway"] == server.url
    assert page.team.key.text() == "" and "keep the saved one" in page.team.key.placeholderText()

    said = check(qtbot, page, "")  # the kept key
    assert said.startswith(f"The team's gateway at {server.url} answers and accepts the client key"), said
    said = check(qtbot, page, "sk-not-the-teams")
    assert said == f"The team's gateway at {server.url} answers, but it refused the client key.", said

    connect, codex = set_up_codex(qtbot, app, server.url)
    assert connect.team_line.isVisible()
    assert connect.team_line.text() == f"Your tools use the team's gateway at {server.url}."
    assert "It works" in connect.result.text(), connect.result.text()  # asked of the team, with its key
    ours = codex["model_providers"]["switchboard"]  # type: ignore[index]
    assert ours["base_url"] == f"{server.url}/v1" and ours["experimental_bearer_token"] == key
    assert key not in connect.text.toPlainText()  # the snippet to copy never shows the key

    page = settings_page(qtbot, app)
    save_team(qtbot, page, "", "")
    assert "this computer's Switchboard again" in page.note.text(), page.note.text()
    assert app.secrets.get(TEAM_KEY) is None  # type: ignore[attr-defined]
    assert "team_gateway" not in tomllib.loads(page.context.setup.paths.config_file.read_text(encoding="utf-8")).get(
        "app", {}
    )

    connect, codex = set_up_codex(qtbot, app, app.host.url.rstrip("/"))
    assert not connect.team_line.isVisible() and connect.url == app.host.url.rstrip("/")
    assert codex["model_providers"]["switchboard"]["base_url"] == f"{app.host.url.rstrip('/')}/v1"  # type: ignore[index]
    assert "It works" in connect.result.text(), connect.result.text()


def test_check_says_when_nothing_answers(qtbot: QtBot, make_app: MakeApp, home: Path) -> None:
    app = make_app()
    page = settings_page(qtbot, app)
    page.team.address.setText("http://127.0.0.1:9")  # the discard port: nothing listens
    said = check(qtbot, page, "sk-any")
    assert said == "Switchboard could not reach the team's gateway at http://127.0.0.1:9: nothing answered there."
    page.team.address.setText("switchboard.corp")
    page.team.check_button.click()
    assert "whole address" in page.note.text() and "https://" in page.note.text()


def test_the_settings_file_takes_only_a_whole_address(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(LOCAL_OFF + '[app]\nteam_gateway = "https://switchboard.corp.example/"\n')
    assert load_settings(config, {}, port=0).app.team_gateway == "https://switchboard.corp.example/"
    config.write_text(LOCAL_OFF + '[app]\nteam_gateway = "switchboard.corp.example"\n')
    with pytest.raises(ConfigError, match=r"\[app\]\.team_gateway must be an http:// or https:// address"):
        load_settings(config, {}, port=0)
