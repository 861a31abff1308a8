"""The Models page against a real in-process gateway and a fake upstream: the list and its search,
"Copy id", and Try it, which sends through the gateway's own address as a tool would (streamed,
then the route and tokens shown), says why a model failed in words, and works where the gateway
requires client keys."""

from __future__ import annotations

from app_fixtures import KEY, LoopThread, MakeApp
from conftest import provider_table
from fakes.openai_upstream import TEXT, FakeOpenAI
from fakes.upstream import Script
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.application import PAGES
from app.windows.models import ModelsPage
from app.windows.providers import ProvidersPage

WAIT = 15_000
ALIASES = '[aliases]\nquick = ["fake/gpt-test"]\n[models."fake/gpt-test"]\nrating = 2\n'  # rated: auto may pick it


def models_page(qtbot: QtBot, make_app: MakeApp, fake: FakeOpenAI, extra: str = "") -> ModelsPage:
    app = make_app({"FAKE_KEY": KEY}, extra + provider_table("fake", fake) + ALIASES)
    page = app.window.go(ModelsPage.title)
    assert isinstance(page, ModelsPage)
    qtbot.waitUntil(lambda: len(page.model.rows) > 0, timeout=WAIT)
    return page


def test_the_page_follows_providers() -> None:
    assert PAGES[PAGES.index(ProvidersPage) + 1] is ModelsPage


def test_search_narrows_the_list_and_copy_id_copies_the_chosen_one(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    page = models_page(qtbot, make_app, fake)
    ids = [row["id"] for row in page.model.rows]
    assert ids[:5] == ["fake/gpt-test", "fake/gpt-other", "fake/text-embed-test", "quick", "auto"]
    assert ids[5:] == ["auto:fast", "auto:local"]
    assert [page.model.text(0, c) for c in range(page.model.columnCount())][:2] == ["fake/gpt-test", "fake"]
    assert page.picker.findText("fake/text-embed-test") < 0  # embeddings only: nothing to chat with

    five = page.view.maximumHeight()  # as tall as its rows: no empty box under a short list
    page.search.setText("OTHER")
    assert [row["id"] for row in page.model.rows] == ["fake/gpt-other"] and page.count.text() == "1 of 7"
    assert page.view.maximumHeight() < five
    page.search.setText("embeddings")
    assert [row["id"] for row in page.model.rows] == ["fake/text-embed-test"]
    page.search.setText("switchboard gpt-test")  # every word, in any column: what leads to it
    assert [row["id"] for row in page.model.rows] == ["quick", "auto", "auto:fast", "auto:local"]

    page.search.clear()
    page.copy_id()
    assert "Choose a model" in page.note.text()
    page.view.selectRow(1)
    page.copy_button.click()
    assert QGuiApplication.clipboard().text() == "fake/gpt-other" and "fake/gpt-other" in page.note.text()
    assert page.picker.currentText() == "fake/gpt-other"  # choosing a row chooses it to try
    fakes.run(fake.stop())


def test_try_it_streams_the_answer_then_shows_the_route_and_tokens(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    page = models_page(qtbot, make_app, fake)
    pieces: list[str] = []
    page.answer.textChanged.connect(lambda: pieces.append(page.answer.toPlainText()))
    resets: list[int] = []
    page.model.modelReset.connect(lambda: resets.append(1))
    page.view.selectRow(1)
    page.picker.setCurrentText("quick")  # chosen after the row: the choice stays through the list's refresh
    page.prompt.setText("Hello?")
    page.send_button.click()
    assert not page.send_button.isEnabled()
    qtbot.waitUntil(lambda: page.result.text().startswith("Answered"), timeout=WAIT)
    assert page.answer.toPlainText() == TEXT and len(pieces) > 1  # it came in pieces
    said = page.result.text()
    assert said.startswith("Answered through fake/gpt-test (key “") and said.endswith(": 12 tokens in, 5 out.")
    assert page.send_button.isEnabled()
    qtbot.waitUntil(lambda: len(resets) > 0, timeout=WAIT)  # the list asked again after the answer
    assert page.picker.currentText() == "quick"
    page.search.setText("gpt")  # nor does a search change it
    assert page.picker.currentText() == "quick" and page.selected() == page.model.rows[1]
    sent = fake.chat_requests[-1].json
    assert sent["stream"] is True and sent["messages"][-1]["content"] == "Hello?"
    fakes.run(fake.stop())


def test_a_model_that_fails_says_why_in_words(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    page = models_page(qtbot, make_app, fake)
    fake.fail(400, "invalid_request_error", "This model is not available on your plan.")
    page.picker.setCurrentText("fake/gpt-other")
    page.send()
    qtbot.waitUntil(lambda: "not available on your plan" in page.result.text(), timeout=WAIT)
    assert "Error" not in page.result.text() and "{" not in page.result.text()
    assert page.answer.toPlainText() == "" and page.send_button.isEnabled()

    app_stopped = page.context.host.stop()
    qtbot.waitUntil(app_stopped.done, timeout=WAIT)
    page.send()
    qtbot.waitUntil(lambda: "not running" in page.result.text(), timeout=WAIT)
    fakes.run(fake.stop())


def test_try_it_works_where_the_gateway_requires_client_keys(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    page = models_page(qtbot, make_app, fake, "[server]\nrequire_keys = true\n")
    page.picker.setCurrentText("fake/gpt-test")
    page.send()
    qtbot.waitUntil(lambda: page.result.text().startswith("Answered"), timeout=WAIT)
    assert page.answer.toPlainText() == TEXT
    control = page.context.host.control
    assert control is not None and control.keys() == []  # the app's own key is no client key
    assert fake.chat_requests[-1].json["model"] == "gpt-test"
    fakes.run(fake.stop())


def test_closing_the_page_ends_the_message_under_way(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    shown = models_page(qtbot, make_app, fake)
    page = ModelsPage(shown.context)  # one of its own, to close
    page.shown()
    qtbot.waitUntil(lambda: page.picker.count() > 0, timeout=WAIT)
    fake.then(Script("held"))  # a model that writes a little, then thinks on and on
    page.picker.setCurrentText("fake/gpt-test")
    page.send()
    trying = page.trying
    assert trying is not None
    qtbot.waitUntil(fake.holding.is_set, timeout=WAIT)
    qtbot.waitUntil(lambda: page.answer.toPlainText() != "", timeout=WAIT)
    page.deleteLater()
    qtbot.waitUntil(trying.done, timeout=WAIT)
    assert trying.cancelled()
    qtbot.waitUntil(fake.hung_up.is_set, timeout=WAIT)  # the gateway let go of the upstream too
    fakes.run(fake.stop())
