"""What a look at every page on screen found and had fixed: the welcome calls a key what the
Providers page calls it; the window's banner stops saying the gateway could not start once it
serves; the providers with no key fold under "More providers" once one is in use; an empty
Accounts page says what to do and Quotas shows no empty box; Overview's lists are as tall as
what they hold."""

from __future__ import annotations

from app_fixtures import KEY, MakeApp
from conftest import free_ports
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QScrollBar
from pytestqt.qtbot import QtBot
from status_documents import key_status, provider_status, status_document

from app.application import COULD_NOT_START, NO_TRAY
from app.colours import BAD, GOOD
from app.viewmodels.welcome import IN_USE, KEEP_NOTE, offers
from app.windows.accounts import NONE_YET, AccountsPage
from app.windows.overview import OverviewPage
from app.windows.providers import ProvidersPage
from app.windows.quotas import QuotasPage
from app.windows.settings import NO_KEYS, SettingsPage
from gateway import Found
from gateway.pipeline.status import FailingModel
from gateway.routing.health import Rest

WAIT = 15_000


def _key(pid: str, name: str, *, kept: bool) -> Found:
    return Found(kind="key", id=pid, name=name, detail="", in_use=True, kept=kept)


def test_the_welcome_says_a_refused_key_as_the_providers_page_does() -> None:
    refused = provider_status("groq", "Groq", keys=[key_status("env", benched=_refused())])
    working = provider_status("mistral", "Mistral", keys=[key_status("env")], models=3)
    status = status_document(providers=[refused, working])
    groq, mistral, kept = offers(
        [
            _key("groq", "Groq", kept=False),
            _key("mistral", "Mistral", kept=False),
            _key("mistral", "Mistral", kept=True),
        ],
        status,
    )
    assert (groq.state, groq.colour, groq.button) == ("Key refused by Groq", BAD, None)  # not "In use now"
    assert (mistral.state, mistral.button) == (KEEP_NOTE, "Keep using it")
    assert (kept.state, kept.colour) == (IN_USE, GOOD)
    assert offers([_key("groq", "Groq", kept=True)])[0].state == IN_USE  # no status yet: as discovered


def _refused() -> Rest:
    return {"reason": "credential_refused", "seconds_left": 3600.0}


def test_the_banner_stops_saying_it_could_not_start_once_it_serves(make_app: MakeApp) -> None:
    app = make_app(tray=False)  # no tray: notices go to the window's banner
    assert app.window.notice.text() == NO_TRAY
    app.host.failed.emit("Port 11488 is taken by another program.")
    assert app.window.notice.text().startswith(COULD_NOT_START)
    app.host.started.emit(app.host.url)
    assert app.window.notice.text() == NO_TRAY and not app.window.notice.isHidden()


def test_providers_without_a_key_fold_under_more_once_one_is_in_use(qtbot: QtBot, make_app: MakeApp) -> None:
    (closed,) = free_ports(1)
    app = make_app({"GROQ_API_KEY": KEY, "GROQ_BASE_URL": f"http://127.0.0.1:{closed}/v1"})
    app.window.show()
    page = app.window.go(ProvidersPage.title)
    assert isinstance(page, ProvidersPage)
    qtbot.waitUntil(lambda: "groq" in page.cards and page.more_count > 0, timeout=WAIT)
    assert page.cards_layout.indexOf(page.cards["groq"]) == 0  # in use: shown
    assert page.more_layout.indexOf(page.cards["openai"]) >= 0 and page.more.isHidden()
    assert page.more_button.text() == f"▸ More providers ({page.more_count})"
    page.more_button.click()
    assert not page.more.isHidden() and page.more_button.text().startswith("▾")
    page.show_status(app.status)  # a refresh does not fold them again
    assert not page.more.isHidden()


def test_a_first_run_sees_every_provider_unfolded(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    app.window.show()
    page = app.window.go(ProvidersPage.title)
    assert isinstance(page, ProvidersPage)
    qtbot.waitUntil(lambda: "openai" in page.cards, timeout=WAIT)
    assert page.more_button.isChecked() and not page.more.isHidden()


def test_empty_accounts_and_quotas_say_so_without_empty_boxes(make_app: MakeApp) -> None:
    app = make_app()
    accounts = app.window.pages[AccountsPage.title]
    assert isinstance(accounts, AccountsPage)
    accounts.show_status(status_document(accounts=[]))
    assert accounts.none.text() == NONE_YET and not accounts.none.isHidden()
    assert accounts.view.isHidden() and accounts.remove_button.isHidden()
    quotas = app.window.pages[QuotasPage.title]
    assert isinstance(quotas, QuotasPage)
    quotas.show_status(status_document(quota=[]))
    assert quotas.body.isHidden() and not quotas.empty.isHidden()


def test_overview_lists_are_as_tall_as_what_they_hold(make_app: MakeApp) -> None:
    app = make_app()
    overview = app.window.pages[OverviewPage.title]
    assert isinstance(overview, OverviewPage)
    status = status_document()
    status["today"] = {"requests": 0, "tokens": 0, "models": []}
    overview.show_status(status)
    assert overview.models_view.isHidden() and not overview.no_requests.isHidden()
    assert len(overview.problems.lines()) == 1 and overview.problems.sizeHint().height() < 80  # one line, not a box
    assert overview.state.styleSheet() == f"color: {GOOD};"  # serving: the tray icon's green


def test_a_long_problem_is_shown_whole_on_the_overview_wrapped_with_no_scroll_bar(
    qtbot: QtBot, make_app: MakeApp
) -> None:
    app = make_app()
    overview = app.window.go(OverviewPage.title)
    assert isinstance(overview, OverviewPage)
    app.window.resize(700, 500)
    app.window.show()
    qtbot.waitExposed(app.window)
    qtbot.waitUntil(lambda: app.status is not None, timeout=WAIT)  # the app's own status is in: none comes later
    app.timer.stop()
    error = "the upstream answered 502 Bad Gateway through the company proxy at proxy.example.com:3128, " * 3
    failing: FailingModel = {"model": "openai/gpt-5", "error": error.strip(" ,"), "at_s": 0.0}
    overview.show_status(status_document(failing=[failing]))
    long_line = f"every route for openai/gpt-5 failed: {failing['error']}"
    qtbot.wait(100)  # laid out
    sideways = [bar for bar in app.window.findChildren(QScrollBar) if bar.orientation() == Qt.Orientation.Horizontal]
    assert not any(bar.isVisible() for bar in sideways)  # nothing to scroll to: the line is not wider than the page
    (label,) = [label for label in overview.findChildren(QLabel) if label.text() == long_line]
    assert label.isVisible() and label.wordWrap()
    right = label.mapTo(overview, QPoint(label.width(), 0)).x()
    assert right <= overview.width() and label.height() >= label.heightForWidth(label.width())  # whole, wrapped


def test_settings_without_client_keys_says_so_instead_of_an_empty_table(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    app.window.show()
    settings = app.window.go(SettingsPage.title)
    assert isinstance(settings, SettingsPage)
    qtbot.waitUntil(lambda: not settings.no_keys.isHidden(), timeout=WAIT)
    assert settings.no_keys.text() == NO_KEYS and settings.keys_view.isHidden()
