"""The pages that change settings, against a real in-process gateway: Settings (LAN mode with its
client key, keys on loopback, theme, log level, start at login), Local models (a server at a
custom address, switched off and on, rescan) and the provider address and model list. Each edit
lands in config.toml with what the person wrote kept, and a bad one is refused with the reason."""

from __future__ import annotations

import logging
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from app_fixtures import KEY, LoopThread, MakeApp
from conftest import free_ports
from fakes.openai_upstream import FakeOpenAI
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from app.application import Application
from app.viewmodels.settings import Network
from app.windows.key_dialog import KeyDialog
from app.windows.local_models import LocalModelsPage
from app.windows.providers import ProvidersPage
from app.windows.settings import SettingsPage

WAIT = 15_000


def _status(url: str, key: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(f"{url}/v1/models", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _settings(app: Application, qtbot: QtBot) -> SettingsPage:
    app.window.show()
    page = app.window.go(SettingsPage.title)
    assert isinstance(page, SettingsPage)
    qtbot.waitUntil(lambda: bool(page.config), timeout=WAIT)  # read from the file the fixture wrote
    return page


def _restarted(app: Application, qtbot: QtBot, act: Any) -> None:
    """``act``, then the gateway serves what it changed: applied live, or started again (a move)."""
    done: list[str] = []
    app.host.applied.connect(done.append)
    app.host.started.connect(done.append)
    try:
        act()
        qtbot.waitUntil(lambda: bool(done), timeout=WAIT)
    finally:
        app.host.applied.disconnect(done.append)
        app.host.started.disconnect(done.append)


def test_keys_on_loopback_need_a_key_which_is_made_and_shown_once(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = _settings(app, qtbot)
    assert page.port_note.isVisible() and "command line" in page.port_note.text()  # the tests' port 0
    assert _status(app.host.url) == 200
    page.require_keys.setChecked(True)
    _restarted(app, qtbot, page.apply_button.click)
    qtbot.waitUntil(lambda: page.note.text().startswith("Saved."), timeout=WAIT)  # before a later note
    dialog = page.findChild(KeyDialog)
    assert isinstance(dialog, KeyDialog) and dialog.isVisible()
    key = dialog.key.text()
    assert key.startswith("sk-sb-") and key not in page.note.text()
    assert "require_keys = true" in app.host.server.settings.config_file.read_text()  # type: ignore[union-attr]
    assert _status(app.host.url) == 401 and _status(app.host.url, key) == 200
    qtbot.waitUntil(lambda: [r["label"] for r in page.keys_model.rows] == ["LAN"], timeout=WAIT)

    page.keys_view.selectRow(0)
    page.revoke_key()  # asked first, naming what stops working
    asked = page.findChild(QMessageBox)
    assert isinstance(asked, QMessageBox) and "refused" in asked.informativeText()
    next(button for button in asked.buttons() if button.text() == "Revoke").click()
    qtbot.waitUntil(lambda: "Revoked" in page.note.text(), timeout=WAIT)
    assert page.keys_model.rows[0]["revoked_at"] and _status(app.host.url, key) == 401


def test_lan_mode_warns_makes_a_key_and_listens_beyond_loopback(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = _settings(app, qtbot)
    assert not page.lan_warning.isVisible()
    page.lan.setChecked(True)
    assert page.lan_warning.isVisible() and "client key" in page.lan_warning.text()
    _restarted(app, qtbot, page.apply_button.click)
    qtbot.waitUntil(lambda: "Other computers reach it" in page.note.text(), timeout=WAIT)  # the page knows too
    server = app.host.server
    assert server is not None and server.settings.server.host == "0.0.0.0"
    key = page.findChild(KeyDialog).key.text()  # type: ignore[union-attr]
    # Another computer names this one by its address; without a key it is refused, with one served.
    from gateway.transport.addresses import own_names

    address = next((n for n in own_names() if n[0].isdigit()), None)
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    lan_url = f"http://{address}:{server.port}"
    assert _status(lan_url) == 401 and _status(lan_url, key) == 200

    page.lan.setChecked(False)
    _restarted(app, qtbot, page.apply_button.click)
    assert app.host.server is not None and app.host.server.settings.server.host == "127.0.0.1"


def test_theme_log_level_and_start_at_login(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = _settings(app, qtbot)
    qtbot.waitUntil(
        lambda: "gone when the gateway stops" in page.secrets.text(), timeout=WAIT
    )  # where secrets are, said
    qt = QApplication.instance()
    assert isinstance(qt, QApplication)
    server = app.host.server
    assert server is not None
    rebuilt: list[bool] = []
    server.on_applied.append(lambda: rebuilt.append(True))
    path = page.context.setup.paths.config_file
    page.theme.setCurrentIndex(page.theme.findData("dark"))
    page.theme.activated.emit(page.theme.currentIndex())
    assert qt.palette().window().color().lightness() < 80
    edit = (
        "app",
        "config.edited",
        {"file": "config.toml", "keys": ["app.theme"], "values": {"app.theme": "dark"}, "applied": True},
    )
    qtbot.waitUntil(lambda: edit in _audited(app), timeout=WAIT)  # audited, in use (the app reads it)...
    assert 'theme = "dark"' in path.read_text() and not rebuilt  # ...and no gateway rebuilt for it
    page.log_level.setCurrentIndex(page.log_level.findData("debug"))
    page.log_level.activated.emit(page.log_level.currentIndex())
    assert logging.getLogger().level == logging.DEBUG
    qtbot.waitUntil(lambda: rebuilt == [True], timeout=WAIT)  # the gateway's own setting: applied
    assert 'log_level = "debug"' in path.read_text() and server.settings.server.log_level == "debug"
    assert page.context.setup.settings().app.theme == "dark"
    page.theme.setCurrentIndex(page.theme.findData("system"))
    page.theme.activated.emit(page.theme.currentIndex())
    assert qt.palette().window().color().lightness() > 160
    logging.getLogger().setLevel(logging.WARNING)

    page.autostart.setChecked(True)
    app.tray.menu.aboutToShow.emit()  # the tray menu, opened now, says so too
    assert app.autostart.enabled() and app.tray.action("Start at login").isChecked()
    page.autostart.setChecked(False)
    assert not app.autostart.enabled()


def answer(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """The next question a page asks in a dialog gets ``text``, as if typed and OK pressed."""
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: (text, True)))


def test_a_local_server_at_a_custom_address_switched_off_and_on(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = fakes.run(FakeOpenAI(key=None, models=("qwen2.5-coder-7b",)).start())
    app = make_app()
    app.window.show()
    page = app.window.go(LocalModelsPage.title)
    assert isinstance(page, LocalModelsPage)
    qtbot.waitUntil(
        lambda: {r["id"] for r in page.model.rows} >= {"ollama", "lmstudio", "llamacpp", "vllm", "localai"},
        timeout=WAIT,
    )
    qtbot.waitUntil(lambda: page.off >= {"ollama", "lmstudio"}, timeout=WAIT)
    assert page.model.data(page.model.index(_row(page, "lmstudio"), 1)) == "off"

    page.view.selectRow(_row(page, "lmstudio"))
    assert page.toggle_button.text() == "Turn on"
    answer(monkeypatch, studio.root)  # a root address: the page adds LM Studio's /v1
    _restarted(app, qtbot, page.set_address)
    qtbot.waitUntil(lambda: page.note.text() == "LM Studio is at the new address; in use now.", timeout=WAIT)
    qtbot.waitUntil(
        lambda: "lmstudio" not in page.off and "lmstudio/qwen2.5-coder-7b" in _models(page, "lmstudio"), timeout=WAIT
    )
    assert page.model.data(page.model.index(_row(page, "lmstudio"), 1)) == "running, 1 model"
    text = page.context.setup.paths.config_file.read_text()
    assert f'base_url = "{studio.url}"' in text and "[providers.ollama]\nenabled = false" in text

    page.view.selectRow(_row(page, "lmstudio"))
    _restarted(app, qtbot, page.toggle)
    qtbot.waitUntil(lambda: page.note.text() == "LM Studio is off; in use now.", timeout=WAIT)  # before rescan's
    qtbot.waitUntil(lambda: "lmstudio" in page.off, timeout=WAIT)
    qtbot.waitUntil(lambda: app.host.serving, timeout=WAIT)
    served = {p.id for p in app.host.server.gateway.providers}  # type: ignore[union-attr]
    assert "lmstudio" not in served

    page.rescan()
    qtbot.waitUntil(
        lambda: "No local model server answered" in page.note.text() or "Running" in page.note.text(), timeout=WAIT
    )
    fakes.run(studio.stop())


def _row(page: LocalModelsPage, pid: str) -> int:
    return [r["id"] for r in page.model.rows].index(pid)


def _models(page: LocalModelsPage, pid: str) -> list[str]:
    return page.model.rows[_row(page, pid)]["models"]


def test_provider_address_and_models_and_a_refused_edit(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app = make_app({"GROQ_API_KEY": KEY})
    app.window.show()
    page = app.window.go(ProvidersPage.title)
    assert isinstance(page, ProvidersPage)
    qtbot.waitUntil(lambda: "groq" in page.cards, timeout=WAIT)
    assert not any(r["local"] for r in page.rows if r["id"] in page.cards)
    answer(monkeypatch, fake.url)
    _restarted(app, qtbot, lambda: page.set_address("groq"))
    qtbot.waitUntil(lambda: page.note.text() == "Saved the address of Groq; in use now.", timeout=WAIT)
    answer(monkeypatch, f" {fake.models[0]} , ")
    _restarted(app, qtbot, lambda: page.set_models("groq"))
    qtbot.waitUntil(lambda: page.note.text() == "Saved the model list of Groq; in use now.", timeout=WAIT)
    qtbot.waitUntil(
        lambda: any(r["id"] == "groq" and r["models"] == [f"groq/{fake.models[0]}"] for r in page.rows),
        timeout=WAIT,
    )

    config = page.context.setup.paths.config_file
    before = config.read_text()
    answer(monkeypatch, "https://example.invalid/v1")
    page.set_address("mistral")  # mistral has no key: the gateway could not start from that
    qtbot.waitUntil(lambda: "no key" in page.note.text(), timeout=WAIT)
    assert config.read_text() == before and not config.with_name("config.toml.new").exists()
    fakes.run(fake.stop())


def _choose_folder(monkeypatch: pytest.MonkeyPatch, folder: Path, confirm: bool = True) -> list[str]:
    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))

    def question(parent: Any, title: str, text: str, *a: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes if confirm else QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def test_the_data_folder_moves_with_its_keys_and_the_gateway_serves_from_there(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(platform_folders=True)
    page = _settings(app, qtbot)
    before = page.context.setup.paths
    assert page.move_button.isEnabled() and page.folder.text() == str(before.config_dir)
    created = app.host.call(lambda c: c.create_key("laptop", "standard", {}, "test")).result(10)
    config = before.config_file.read_text(encoding="utf-8")
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "letter.txt").write_text("not Switchboard's", encoding="utf-8")
    asked = _choose_folder(monkeypatch, documents)

    _restarted(app, qtbot, page.move_button.click)
    target = documents / "Switchboard"  # the chosen folder was not empty: a folder of its own inside it
    qtbot.waitUntil(lambda: "Moved to" in page.note.text(), timeout=WAIT)
    assert str(target) in asked[0] and "old copy is gone" in page.note.text()
    after = page.context.setup.paths
    assert after.config_dir == target and after.source == "moved" and page.folder.text() == str(target)
    assert after.config_file.read_text(encoding="utf-8") == config
    assert (documents / "letter.txt").exists()
    assert not before.data_dir.exists() and not before.log_dir.exists()
    assert [p.name for p in before.config_dir.iterdir()] == ["home-folder.txt"]
    stores = app.stores  # type: ignore[attr-defined]
    assert stores[before.data_dir.resolve()].values == {} and stores[after.data_dir.resolve()].values

    keys = app.host.call(lambda c: c.keys()).result(10)  # the database came along, keyed as before
    assert [k["label"] for k in keys] == ["laptop"]
    assert app.host.call(lambda c: c.needs_state().keys.find(created["key"]) is not None).result(10)
    events = app.host.call(lambda c: c.audit_events()).result(10)
    assert "state.moved" in [e["action"] for e in events]
    assert app.host.call(lambda c: c.audit_verify()).result(10)["ok"]
    assert _status(app.host.url) == 200


def test_a_folder_that_cannot_take_the_state_is_refused_and_the_gateway_serves_on(
    qtbot: QtBot, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(platform_folders=True)
    page = _settings(app, qtbot)
    before = page.context.setup.paths
    _choose_folder(monkeypatch, before.data_dir / "inside")
    _restarted(app, qtbot, page.move_button.click)
    qtbot.waitUntil(lambda: "Not moved" in page.note.text(), timeout=WAIT)
    assert "overlaps" in page.note.text() and page.context.setup.paths == before and page.move_button.isEnabled()
    assert _status(app.host.url) == 200

    _choose_folder(monkeypatch, before.data_dir.parent / "elsewhere", confirm=False)
    page.move_button.click()  # asked, and declined: nothing happens
    assert page.context.setup.paths == before and not (before.data_dir.parent / "elsewhere").exists()


def test_a_folder_given_at_launch_is_not_moved_from_settings(qtbot: QtBot, make_app: MakeApp) -> None:
    page = _settings(make_app(), qtbot)  # the fixture's --home folder
    tip = page.move_button.toolTip()
    assert not page.move_button.isEnabled() and "cannot be moved from here" in tip
    assert "--home" not in tip and "SWITCHBOARD_HOME" not in tip  # plain words, no command-line names


def _audited(app: Application) -> list[tuple[str, str, dict[str, Any]]]:
    events = app.host.call(lambda control: control.audit_events(0, 1000)).result(10)
    return [(e["actor"], e["action"], e["payload"]) for e in events]


def test_an_edit_from_the_app_is_audited_as_one_over_http(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: the pages edit through the admin door, so the audit log has them as it has the
    admin route's edits (config.edited, with the settings changed)."""
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app = make_app({"GROQ_API_KEY": KEY})
    app.window.show()
    page = app.window.go(ProvidersPage.title)
    assert isinstance(page, ProvidersPage)
    qtbot.waitUntil(lambda: "groq" in page.cards, timeout=WAIT)
    answer(monkeypatch, fake.url)
    _restarted(app, qtbot, lambda: page.set_address("groq"))
    edits = [(actor, payload) for actor, action, payload in _audited(app) if action == "config.edited"]
    values = {"providers.groq.base_url": fake.url}
    assert edits == [
        ("app", {"file": "config.toml", "keys": ["providers.groq.base_url"], "values": values, "applied": True})
    ]
    fakes.run(fake.stop())


def test_removing_a_stored_key_the_gateway_needs_is_refused_and_it_serves_on(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: Providers → "Remove stored key" on a provider whose address was changed left a
    gateway that could not start, and the app's restart stopped it for good. Refused now, with the
    reason; the key stays and the gateway never stops."""
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app = make_app()
    app.window.show()
    page = app.window.go(ProvidersPage.title)
    assert isinstance(page, ProvidersPage)
    qtbot.waitUntil(lambda: "groq" in page.cards, timeout=WAIT)
    page.store("groq", (KEY,))
    qtbot.waitUntil(lambda: "in use now" in page.note.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: any(r["id"] == "groq" and r["configured"] for r in page.rows), timeout=WAIT)
    answer(monkeypatch, fake.url)
    _restarted(app, qtbot, lambda: page.set_address("groq"))
    # the edit's own note comes after the gateway applied it; waited for, it cannot land on the refusal's
    qtbot.waitUntil(lambda: "Saved the address of Groq" in page.note.text(), timeout=WAIT)

    stopped: list[bool] = []
    app.host.stopped.connect(lambda: stopped.append(True))
    page.remove(page.card("groq"))
    assert page.box is not None
    next(b for b in page.box.buttons() if b.text() == "Remove").click()  # it asks first
    qtbot.waitUntil(lambda: "Not removed" in page.note.text(), timeout=WAIT)
    assert page.note.property("error") and page.note.text() == (
        "Not removed, so nothing changed: Groq has settings of its own and would be left without a key."
    )  # plain words: it serves on (no "could not start"), and names no variable or command
    assert app.secrets.get("provider-key:groq") == KEY  # type: ignore[attr-defined]
    assert app.host.serving and not stopped and _status(app.host.url) == 200
    assert not [a for _, a, _ in _audited(app) if a == "provider.key_removed"]
    fakes.run(fake.stop())


def _save_port(page: SettingsPage, port: int) -> None:
    page.port.setValue(port)
    page.apply_button.click()


def test_the_settings_note_says_the_port_listened_on(
    qtbot: QtBot, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving the address says the port the gateway listens on, not the one asked for: a port
    chosen at launch wins over the file's; paused, it applies when resumed; where it could not
    start, once it has started with the new one."""
    app = make_app()  # the tests' port 0, chosen at launch
    page = _settings(app, qtbot)
    (wanted, taken, free) = free_ports(3)
    _save_port(page, wanted)
    listening = app.host.server.port  # type: ignore[union-attr]
    assert listening != wanted
    qtbot.waitUntil(lambda: page.note.text().startswith("Saved."), timeout=WAIT)
    assert page.note.text() == (
        f"Saved. The gateway listens on port {listening}, chosen at launch; port {wanted} applies when "
        "Switchboard is started without a port chosen at launch."
    )

    page.context.setup.port = None  # as started without one: the file's port is listened on, moved live
    _save_port(page, free)
    qtbot.waitUntil(lambda: page.note.text() == f"Saved. The gateway listens on port {free}.", timeout=WAIT)
    assert app.host.server.port == free  # type: ignore[union-attr]

    app.pause(True)
    qtbot.waitUntil(lambda: not app.host.serving, timeout=WAIT)
    _save_port(page, wanted)
    qtbot.waitUntil(lambda: page.note.text() == "Saved. It applies when the gateway is resumed.", timeout=WAIT)
    with socket.socket() as holder:  # resumed, it cannot listen there: it stopped, not paused
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        page.context.setup.change([("server", "port", taken)])
        page.saved = Network(taken, False, False)
        app.pause(False)
        # Said on the page, not only known to the host: the failure is heard before ``say`` is watched.
        qtbot.waitUntil(lambda: page.note.text().startswith("The gateway could not start"), timeout=WAIT)
    said: list[str] = []
    say = page.say

    def saying(text: str, *, error: bool = False) -> None:
        said.append(text)
        say(text, error=error)

    monkeypatch.setattr(page, "say", saying)
    _save_port(page, wanted)
    qtbot.waitUntil(lambda: page.note.text() == f"Saved. The gateway listens on port {wanted}.", timeout=WAIT)
    assert said == ["Saved. Starting the gateway with it…", f"Saved. The gateway listens on port {wanted}."]
    assert app.host.serving and app.host.server.port == wanted  # type: ignore[union-attr]
