"""Usage's "Export CSV…" button, clicked as a person would: it asks where and writes the file
there (it raised a TypeError once: the button's ``checked`` flag arrived as the path)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_fixtures import MakeApp
from PySide6.QtWidgets import QFileDialog, QPushButton
from pytestqt.qtbot import QtBot

from app.windows.usage import UsagePage

WAIT = 15_000


def _export_button(page: UsagePage) -> QPushButton:
    return next(b for b in page.findChildren(QPushButton) if b.text() == "Export CSV…")


def test_the_export_button_asks_where_and_writes_there(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = make_app().window.go(UsagePage.title)
    assert isinstance(page, UsagePage)
    target = tmp_path / "out.csv"
    asked: list[str] = []

    def choose(*args: object) -> tuple[str, str]:
        asked.append(str(args[1]))
        return str(target), "CSV files (*.csv)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", choose)
    _export_button(page).click()
    assert asked == ["Export recent requests"]
    qtbot.waitUntil(lambda: page.note.text() == f"Wrote 0 request(s) to {target}.", timeout=WAIT)  # on a worker thread
    header = target.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("at_s,request_id,") and "model" in header


def test_a_cancelled_export_writes_nothing_and_an_unwritable_one_says_so(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = make_app().window.go(UsagePage.title)
    assert isinstance(page, UsagePage)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_: ("", ""))
    _export_button(page).click()
    assert page.note.isHidden() and list(tmp_path.glob("*.csv")) == []

    nowhere = tmp_path / "no-such-folder" / "out.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_: (str(nowhere), ""))
    _export_button(page).click()
    qtbot.waitUntil(lambda: page.note.property("error") is True, timeout=WAIT)
    assert page.note.text().startswith(f"Could not write {nowhere}: check that its folder exists")
