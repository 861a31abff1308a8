"""Removing an account asks first and names what stops working (its models, unless another account
of the same service serves them); Cancel removes nothing, Remove removes it."""

from __future__ import annotations

from pathlib import Path

from app_fixtures import LoopThread, MakeApp, codex_login
from fakes.chatgpt import FakeChatGPT
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from status_documents import account

from app.windows.accounts import AccountsPage, what_stops

WAIT = 15_000


def test_what_stops_names_the_models_unless_another_account_serves_them() -> None:
    ada, bob = account("a1", "copilot:ada"), account("a2", "copilot:bob")
    assert what_stops(ada, [ada]) == (
        "No request goes through copilot:ada any more; GitHub Copilot models stop answering: no other GitHub "
        "Copilot account is connected, so tools using them fail. Its sign-in is deleted from this computer."
    )
    assert "GitHub Copilot models go on through copilot:bob." in what_stops(ada, [ada, bob])


def _button(box: QMessageBox, text: str) -> None:
    next(b for b in box.buttons() if b.text().replace("&", "") == text).click()


def test_removing_an_account_asks_first(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, tmp_path: Path) -> None:
    fake = fakes.run(FakeChatGPT().start())
    app = make_app(codex_login(fake, tmp_path))
    page = app.window.go(AccountsPage.title)
    assert isinstance(page, AccountsPage)
    page.buttons["Import Codex login"].click()
    qtbot.waitUntil(lambda: len(page.model.rows) == 1, timeout=WAIT)
    page.view.selectRow(0)

    page.remove_button.click()
    assert page.box is not None and page.box.isVisible()
    assert page.box.text() == "Remove the account 'codex:ada@example.com'?"
    assert "ChatGPT (Codex) models stop answering" in page.box.informativeText()
    _button(page.box, "Cancel")
    qtbot.wait(300)
    assert len(page.model.rows) == 1 and page.note.text().startswith("Connected")  # nothing removed

    page.view.selectRow(0)
    page.remove_button.click()
    _button(page.box, "Remove")
    qtbot.waitUntil(lambda: page.note.text() == "Removed codex:ada@example.com.", timeout=WAIT)
    qtbot.waitUntil(lambda: page.model.rows == [], timeout=WAIT)
    fakes.run(fake.stop())
