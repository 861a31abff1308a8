"""The fix buttons the Accounts and Providers pages make: an import that finds no login offers the
sign-in instead, and a provider without a key offers the paste-a-key dialog for that provider."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_fixtures import WAIT_MS, MakeApp
from pytestqt.qtbot import QtBot

from app.windows.accounts import AccountsPage
from app.windows.overview import OverviewPage
from app.windows.provider_key_dialog import ProviderKeyDialog
from app.windows.providers import ProvidersPage
from app.windows.settings import SettingsPage
from app.words import Said
from gateway import Fix


def test_no_codex_login_to_import_offers_signing_in_with_chatgpt_instead(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "no-codex").mkdir()
    app = make_app({"CODEX_HOME": str(tmp_path / "no-codex")})
    app.window.show()
    page = app.window.go(AccountsPage.title)
    assert isinstance(page, AccountsPage)
    started: list[str] = []
    monkeypatch.setattr(page, "sign_in", started.append)  # the sign-in itself is tested on its own
    page.import_codex()
    qtbot.waitUntil(lambda: page.fix_button.isVisible(), timeout=WAIT_MS)
    assert "No Codex login" in page.note.text() and page.fix_button.text() == "Sign in with ChatGPT instead"
    page.fix_button.click()
    assert started == ["codex"]


def test_a_provider_without_a_key_offers_its_key_dialog_from_any_page(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    app.window.show()
    providers = app.window.pages[ProvidersPage.title]
    assert isinstance(providers, ProvidersPage)
    qtbot.waitUntil(lambda: "groq" in providers.cards, timeout=WAIT_MS)
    overview = app.window.go(OverviewPage.title)
    overview.say(Said("Groq has no key.", Fix("store_key", "groq")), error=True)
    assert overview.fix_button.isVisibleTo(overview) and overview.fix_button.text() == "Add its key…"
    overview.fix_button.click()
    assert app.window.current is providers
    assert isinstance(providers.dialog, ProviderKeyDialog) and providers.dialog.isVisible()
    assert "Groq" in providers.dialog.windowTitle()


def test_an_untrusted_certificate_offers_the_company_certificate_in_settings(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    app.window.resize(1024, 640)
    app.window.show()
    settings = app.window.pages[SettingsPage.title]
    assert isinstance(settings, SettingsPage)
    overview = app.window.go(OverviewPage.title)
    untrusted = Said("The certificate of api.example.com is not trusted.", Fix("trust_certificate", "api.example.com"))
    overview.say(untrusted, error=True)
    assert overview.fix_button.isVisibleTo(overview) and overview.fix_button.text() == "Choose a company certificate…"
    overview.fix_button.click()
    assert app.window.current is settings
    choose = settings.network.choose_ca
    qtbot.waitUntil(lambda: not choose.visibleRegion().isEmpty() and choose.hasFocus(), timeout=WAIT_MS)
