"""The first-run welcome against a real in-process gateway: on the first start it offers what the
computer has (a fake local Ollama, a fake Codex login, a key in the environment), each "Use it"
puts its thing to use, a test message answered marks it done; it is not shown at the second start,
opens again from the tray, and the first close says Switchboard runs on in the tray."""

from __future__ import annotations

import json
from pathlib import Path

from app_fixtures import KEY, LoopThread, MakeApp, codex_login
from conftest import provider_table
from fakes.chatgpt import FakeChatGPT
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI
from pytestqt.qtbot import QtBot
from test_words import assert_plain

from app.application import RUNNING_HERE, Application
from app.first_run import FILE_NAME, TRAY_NOTICE, WELCOMED
from app.try_chat import Tried
from app.viewmodels.welcome import IN_USE, KEEP_NOTE, NOTHING_FOUND, answered, model_to_try, offer
from app.windows.welcome import SIZE
from gateway import Found, ModelRow
from gateway.admin.discovery import FoundKind
from gateway.admin.models import ModelKind, ModelState

WAIT = 15_000


def _saved(home: Path) -> list[object]:
    return [json.loads(f.read_text(encoding="utf-8")) for f in home.rglob(FILE_NAME)]


def _state(app: Application, kind: str) -> str:
    return next((o.state for o in app.welcome.offers if o.kind == kind), "")


def test_the_first_start_offers_what_was_found_and_is_done_when_a_model_answers(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, tmp_path: Path
) -> None:
    ollama = fakes.run(FakeOllama().start())
    chatgpt = fakes.run(FakeChatGPT().start())
    groq = fakes.run(FakeOpenAI(key=KEY).start())
    env = {**codex_login(chatgpt, tmp_path), "GROQ_API_KEY": KEY, "GROQ_BASE_URL": groq.url}
    local = provider_table("box", ollama, extra='local = true\nname = "Ollama"')
    app = make_app(env, local, tray=True, first_run=True)
    welcome = app.welcome
    assert welcome.isVisible() and not app.window.isVisible()
    qtbot.waitUntil(lambda: {o.kind for o in welcome.offers} == {"local", "codex", "key"}, timeout=WAIT)
    assert _state(app, "local") == IN_USE and ("local", "box") not in welcome.buttons
    assert _state(app, "key") == KEEP_NOTE
    assert_plain(welcome)  # what was found, said as the gateway found it: no variable's name

    welcome.buttons[("codex", "codex")].click()
    qtbot.waitUntil(lambda: _state(app, "codex") == IN_USE, timeout=WAIT)
    assert app.host.server.accounts is not None and app.host.server.accounts.listing()  # type: ignore[union-attr]
    welcome.buttons[("key", "groq")].click()
    qtbot.waitUntil(lambda: _state(app, "key") == IN_USE, timeout=WAIT)
    assert welcome.note.text().startswith("The key for Groq is kept now")

    welcome.try_button.click()
    qtbot.waitUntil(lambda: "answered" in welcome.result.text(), timeout=WAIT)
    assert welcome.answer.text() and welcome.finish_button.text() == "Finish"
    # Done: not shown at the next start, even if not closed now (marked by a task of its own, soon after).
    qtbot.waitUntil(lambda: app.first_run.seen(WELCOMED), timeout=WAIT)
    qtbot.waitUntil(lambda: any((tmp_path / "home").rglob(FILE_NAME)), timeout=WAIT)

    welcome.finish_button.click()
    assert not welcome.isVisible()
    assert app.notified[-1] == RUNNING_HERE  # the first close, with the tray icon left
    qtbot.waitUntil(lambda: app.first_run.seen(TRAY_NOTICE), timeout=WAIT)
    app.window.bring_forward()
    app.window.close()
    assert app.notified.count(RUNNING_HERE) == 1  # once
    for fake in (ollama, chatgpt, groq):
        fakes.run(fake.stop())


def test_skipped_it_is_not_shown_at_the_second_start_and_the_tray_opens_it_again(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path
) -> None:
    first = make_app(tray=True, first_run=True)
    assert first.welcome.isVisible()
    qtbot.waitUntil(lambda: first.welcome.looking.text() == NOTHING_FOUND, timeout=WAIT)
    first.welcome.finish_button.click()  # "Skip"
    qtbot.waitUntil(lambda: _saved(tmp_path / "home") == [{WELCOMED: True, TRAY_NOTICE: True}], timeout=WAIT)
    first.host.stop().result(WAIT / 1000)  # its state folder free for the second start

    second = make_app(tray=True, first_run=True)  # the same state folder: the marker is read
    assert not second.welcome.isVisible() and second.first_run.seen(WELCOMED)
    second.tray.menu.aboutToShow.emit()
    second.tray.action("Welcome…").trigger()
    assert second.welcome.isVisible()
    qtbot.waitUntil(lambda: second.welcome.looking.text() == NOTHING_FOUND, timeout=WAIT)


def test_it_fits_a_small_laptop_screen(make_app: MakeApp) -> None:
    app = make_app(first_run=True)
    welcome = app.welcome
    assert SIZE.width() <= 1024 and SIZE.height() <= 600  # 640 less a title bar
    assert welcome.minimumSize().height() <= 600 and welcome.minimumSizeHint().width() <= 1024


def _found(kind: FoundKind, in_use: bool, kept: bool) -> Found:
    return Found(kind=kind, id=kind, name=kind, detail="", in_use=in_use, kept=kept)


def test_each_thing_found_offers_the_click_it_needs() -> None:
    assert offer(_found("local", True, True)).button is None
    assert offer(_found("codex", False, False)).button == "Use it"
    kept_not = offer(_found("key", True, False))
    assert (kept_not.button, kept_not.state) == ("Keep using it", KEEP_NOTE)


def _row(model_id: str, kind: ModelKind = "model", state: ModelState = "ready", caps: tuple[str, ...] = ()) -> ModelRow:
    return ModelRow(
        id=model_id,
        kind=kind,
        provider="p",
        provider_name="P",
        leads_to=[],
        context=0,
        output=0,
        capabilities=list(caps),
        billing="local",
        input_price=None,
        output_price=None,
        state=state,
        reason=None,
        seconds_left=None,
    )


def test_the_test_message_goes_to_a_ready_chat_model() -> None:
    rows = [_row("auto", "auto"), _row("embed", caps=("embedding",)), _row("busy", state="resting"), _row("chat")]
    assert model_to_try(rows) == "chat"
    assert model_to_try([_row("auto", "auto")]) == "auto"
    assert model_to_try([_row("busy", state="failing")]) is None
    tried = Tried("chat", "chat", "p/chat", 3, 4, 1.25, "Hello")
    assert answered(tried) == "chat answered in 1.2 s. Switchboard is ready."
