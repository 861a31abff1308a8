"""The Providers page against fake upstreams: each provider's state in words (working, a refused
key, an unreachable server), the same words in the overview's problems and the tray's tooltip; a key
pasted (address and key in either box) and tested before it is saved, or refused with the reason and
not saved; a server added, tested, saved and serving; removing asks first and names what stops."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from app_fixtures import KEY, LoopThread, MakeApp
from conftest import free_ports
from fakes.openai_upstream import FakeOpenAI
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from app.application import Application
from app.windows.overview import OverviewPage
from app.windows.provider_key_dialog import ProviderKeyDialog
from app.windows.providers import ProvidersPage
from app.windows.server_dialog import ServerDialog
from gateway.store.provider_keys import stored_keys

WAIT = 15_000


def _models(app: Application) -> set[str]:
    with urllib.request.urlopen(f"{app.host.url}/v1/models", timeout=10) as r:
        return {m["id"] for m in json.loads(r.read())["data"]}


def _page(app: Application) -> ProvidersPage:
    app.window.show()
    page = app.window.go(ProvidersPage.title)
    assert isinstance(page, ProvidersPage)
    return page


def _shown(button: QPushButton) -> bool:
    """Shown on its card (the card itself may not be laid out yet)."""
    return not button.isHidden()


def _words(page: ProvidersPage, provider: str) -> str:
    return page.card(provider).state.words if provider in page.cards and page.cards[provider].card else ""


def _table(pid: str, name: str, url: str) -> str:
    return (
        f'[providers.{pid}]\nname = "{name}"\nkind = "openai-compatible"\nbase_url = "{url}"\n'
        f'api_key_env = "{pid.upper()}_KEY"\n'
    )


def test_states_in_words_agree_with_the_overview_and_the_tray(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    (closed,) = free_ports(1)
    config = (
        _table("works", "Works Inc", fake.url)
        + _table("refused", "Refusing Co", fake.url)
        + _table("gone", "Gone Ltd", f"http://127.0.0.1:{closed}/v1")
    )
    app = make_app({"WORKS_KEY": KEY, "REFUSED_KEY": "sk-revoked-0000000001", "GONE_KEY": KEY}, config)
    page = _page(app)
    expected = {
        "works": f"Working — {len(fake.models)} models",
        "refused": "Key refused by Refusing Co",
        "gone": "Offline: can't reach 127.0.0.1",
    }
    qtbot.waitUntil(lambda: all(_words(page, p) == w for p, w in expected.items()), timeout=WAIT)
    assert page.card("works").keys == "Key: set outside Switchboard (environment)"
    works = page.cards["works"]  # a key from outside stays in use: the button offers another, not a first one
    assert works.buttons["Add key…"].text() == "Add another key…" and works.buttons["Add key…"].toolTip()
    # The host in words, the whole address on hover.
    assert works.detail.text().endswith("Address: this computer") and works.detail.toolTip() == fake.url
    refused = page.cards["refused"]
    assert _shown(refused.buttons["Test"]) and not _shown(refused.buttons["Get a key"])  # no key page known

    overview = app.window.pages[OverviewPage.title]
    assert isinstance(overview, OverviewPage)
    overview.show_status(app.status)
    problems = set(overview.problems.lines())
    lines = {expected["refused"], f"Gone Ltd — {expected['gone']}"}  # named where the words do not
    assert lines <= problems and not any("Works" in p for p in problems)
    app.tray.refresh()
    tip = app.tray.toolTip()
    assert all(f"• {line}" in tip for line in lines) and "Works" not in tip
    assert not any(w in tip + " ".join(problems) for w in ("benched", "credential_refused", "unreachable"))
    fakes.run(fake.stop())


def test_a_key_pasted_in_either_box_is_tested_then_saved(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app = make_app()
    page = _page(app)
    qtbot.waitUntil(lambda: _words(page, "groq") == "No key yet", timeout=WAIT)
    groq = page.cards["groq"]
    assert _shown(groq.buttons["Get a key"]) and not _shown(groq.buttons["Test"])
    groq.buttons["Get a key"].click()
    assert app.opened == ["https://console.groq.com/keys"]  # type: ignore[attr-defined]

    groq.buttons["Add key…"].click()
    dialog = page.dialog
    assert isinstance(dialog, ProviderKeyDialog) and dialog.isVisible()
    dialog.key.setText(fake.url)  # the address in the key's box, the key in the address's: sorted out
    dialog.address.setText("sk-wrong-key-000000001")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.save_anyway.isVisible(), timeout=WAIT)
    assert dialog.outcome.text() == "Key refused by Groq. Save it anyway?" and dialog.cancel.text() == "Don't save"
    assert "sk-wrong" not in dialog.details.text()
    dialog.cancel.click()
    assert not dialog.isVisible() and stored_keys(app.secrets) == {}  # type: ignore[attr-defined]

    groq.buttons["Add key…"].click()
    second = page.dialog
    assert isinstance(second, ProviderKeyDialog)
    second.key.setText(f"{KEY} {fake.url}")  # both in one box
    second.test_button.click()
    qtbot.waitUntil(lambda: not second.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: page.note.text() == "Saved the key for Groq; in use now.", timeout=WAIT)
    qtbot.waitUntil(lambda: _words(page, "groq") == f"Working — {len(fake.models)} models", timeout=WAIT)
    assert stored_keys(app.secrets) == {"groq": (KEY,)}  # type: ignore[attr-defined]
    text = page.context.setup.paths.config_file.read_text()
    assert f'base_url = "{fake.url}"' in text and KEY not in text
    assert page.card("groq").keys == "Key: stored by Switchboard"  # not "config", though it has a table there
    assert {f"groq/{m}" for m in fake.models} <= _models(app)
    fakes.run(fake.stop())


def _press(box: QMessageBox | None, text: str) -> None:
    assert box is not None
    button = next(b for b in box.buttons() if b.text() == text)
    button.click()


def test_a_server_is_added_tested_saved_and_serving_and_removing_it_asks_first(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app = make_app()
    page = _page(app)
    qtbot.waitUntil(lambda: bool(page.cards), timeout=WAIT)
    page.add_server()
    dialog = page.dialog
    assert isinstance(dialog, ServerDialog)
    dialog.test_button.click()
    assert dialog.outcome.text() == "Give the server a name."  # asked nothing yet
    dialog.server_name.setText("Office box")
    dialog.address.setText(fake.url)
    dialog.key.setText(KEY)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: page.note.text() == "Added the server Office box; in use now.", timeout=WAIT)
    qtbot.waitUntil(lambda: _words(page, "office-box") == f"Working — {len(fake.models)} models", timeout=WAIT)
    assert {f"office-box/{m}" for m in fake.models} <= _models(app)
    assert KEY not in page.context.setup.paths.config_file.read_text()
    card = page.cards["office-box"]
    assert _shown(card.buttons["Remove…"]) and not _shown(card.buttons["Add key…"])

    card.buttons["Remove…"].click()
    box: Any = page.box
    assert isinstance(box, QMessageBox) and box.text() == "Remove the server Office box?"
    assert "stop being offered" in box.informativeText()
    _press(box, "Cancel")
    assert "office-box" in page.cards and stored_keys(app.secrets) == {"office-box": (KEY,)}  # type: ignore[attr-defined]
    card.buttons["Remove…"].click()
    _press(page.box, "Remove")
    qtbot.waitUntil(lambda: page.note.text() == "Removed the server Office box; in use now.", timeout=WAIT)
    qtbot.waitUntil(lambda: "office-box" not in page.cards, timeout=WAIT)
    assert stored_keys(app.secrets) == {} and not any(m.startswith("office-box/") for m in _models(app))  # type: ignore[attr-defined]
    fakes.run(fake.stop())


def test_removing_a_stored_key_asks_first(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app = make_app({"GROQ_BASE_URL": fake.url})
    page = _page(app)
    qtbot.waitUntil(lambda: "groq" in page.cards, timeout=WAIT)
    page.store("groq", (KEY,))
    qtbot.waitUntil(lambda: _shown(page.cards["groq"].buttons["Remove…"]), timeout=WAIT)
    page.cards["groq"].buttons["Remove…"].click()
    assert page.box is not None and page.box.text() == "Remove the key for Groq?"
    assert "Groq's models stop being offered" in page.box.informativeText()
    _press(page.box, "Remove")
    qtbot.waitUntil(lambda: _words(page, "groq") == "No key yet", timeout=WAIT)
    assert stored_keys(app.secrets) == {}  # type: ignore[attr-defined]
    fakes.run(fake.stop())
