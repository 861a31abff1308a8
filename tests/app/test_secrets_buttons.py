"""Issue 22, item 5: saved keys the gateway could not open come with the button that fixes it. An
encrypted secrets file and the app started without its passphrase: the note offers "Enter the
passphrase…", a wrong one is refused in words, the right one starts the gateway with the stored
key. A secrets file that cannot be read: "Set the unreadable file aside…" asks first, then the
gateway starts with new secrets and the old file is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_fixtures import KEY, WAIT_MS, LoopThread, MakeApp
from conftest import provider_table
from fakes.openai_upstream import FakeOpenAI
from PySide6.QtWidgets import QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from app.windows.overview import OverviewPage
from app.windows.passphrase_dialog import PassphraseDialog
from app.windows.settings import SettingsPage
from gateway import resolve_paths, secrets_opener
from gateway.store.provider_keys import set_keys
from gateway.store.secrets import FILE_NAME, open_secrets

PASSPHRASE = "correct horse battery staple"
WRONG = "not the passphrase at all"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The state folder ``make_app`` uses, on a computer whose keychain fails (keyring's 'fail'
    backend): secrets are kept in a file there."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    paths = resolve_paths(tmp_path / "home", {})
    paths.ensure()
    return paths.data_dir


def test_started_without_the_passphrase_it_is_asked_for_and_the_stored_key_is_used(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, data_dir: Path
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    set_keys(open_secrets(data_dir, PASSPHRASE), "fake", (KEY,))  # the key exists only in the encrypted file
    app = make_app(config=provider_table("fake", fake), opener=secrets_opener({}), starts=False)
    app.window.show()
    overview = app.window.go(OverviewPage.title)
    qtbot.waitUntil(lambda: overview.fix_button.isVisible(), timeout=WAIT_MS)
    assert "encrypted with a passphrase" in overview.note.text()
    assert overview.fix_button.text() == "Enter the passphrase…"

    overview.fix_button.click()  # Settings makes it
    settings = app.window.current
    assert isinstance(settings, SettingsPage)
    dialog = settings.findChild(PassphraseDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.passphrase.echoMode() == QLineEdit.EchoMode.Password and not dialog.unlock_button.isEnabled()
    dialog.passphrase.setText(WRONG)
    dialog.unlock_button.click()
    qtbot.waitUntil(lambda: "does not open the saved keys" in dialog.outcome.text(), timeout=WAIT_MS)
    assert WRONG not in dialog.outcome.text() and dialog.isVisible() and not app.host.serving

    dialog.passphrase.setText(PASSPHRASE)
    with qtbot.waitSignal(app.host.started, timeout=WAIT_MS):
        dialog.unlock_button.click()
    qtbot.waitUntil(lambda: "The gateway runs with them." in settings.note.text(), timeout=WAIT_MS)
    assert settings.findChild(PassphraseDialog) is None and not settings.fix_button.isVisible()  # closed, gone
    tried = app.host.call(lambda control: control.test_provider("fake")).result(WAIT_MS / 1000)
    assert tried["ok"], tried  # the fake upstream takes only the key kept in the encrypted file
    fakes.run(fake.stop())


def test_an_unreadable_secrets_file_is_set_aside_after_asking_and_kept(
    qtbot: QtBot, make_app: MakeApp, data_dir: Path
) -> None:
    broken = data_dir / FILE_NAME
    broken.write_bytes(b'{"jwt-secret": "')
    app = make_app(opener=secrets_opener({}), starts=False)
    app.window.show()
    settings = app.window.go(SettingsPage.title)
    qtbot.waitUntil(lambda: settings.fix_button.isVisible(), timeout=WAIT_MS)
    assert "cannot be read" in settings.note.text()
    assert settings.fix_button.text() == "Set the unreadable file aside…"

    settings.fix_button.click()
    box = settings.findChildren(QMessageBox)[-1]
    assert "no longer used" in box.informativeText() and "kept" in box.informativeText()
    next(b for b in box.buttons() if b.text() == "Cancel").click()
    assert broken.read_bytes() == b'{"jwt-secret": "' and not app.host.serving  # nothing done on Cancel

    settings.fix_button.click()
    box = settings.findChildren(QMessageBox)[-1]
    with qtbot.waitSignal(app.host.started, timeout=WAIT_MS):
        next(b for b in box.buttons() if b.text() == "Set aside").click()
    qtbot.waitUntil(lambda: "new, empty secrets" in settings.note.text(), timeout=WAIT_MS)
    kept = data_dir / f"{FILE_NAME}.unreadable-1"
    assert kept.name in settings.note.text() and kept.read_bytes() == b'{"jwt-secret": "'
    assert broken.exists() and broken.read_bytes() != kept.read_bytes()  # new secrets, in a new file
