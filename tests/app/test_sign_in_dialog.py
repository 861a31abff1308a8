"""The sign-in dialog follows its flow as one coroutine on the Qt thread's loop: once a second the
countdown moves and the gateway is asked; a flow the gateway no longer knows is said, with a Close
button; and once the dialog is closed, the gateway is asked no more."""

from __future__ import annotations

from types import EllipsisType

import pytest
from app_fixtures import LoopThread, MakeApp
from fakes.github_copilot import FakeCopilot
from pytestqt.qtbot import QtBot

from app.windows import sign_in_dialog
from app.windows.accounts import AccountsPage
from app.windows.sign_in_dialog import SignInDialog
from gateway import Control, FlowDoc

WAIT = 15_000


def _dialog(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread) -> SignInDialog:
    fake = fakes.run(FakeCopilot().start())
    fake.polls = ["authorization_pending"] * 100  # nobody enters the code
    app = make_app(
        {
            "SWITCHBOARD_GITHUB_URL": fake.root,
            "SWITCHBOARD_GITHUB_API_URL": fake.root,
            "SWITCHBOARD_COPILOT_API_URL": fake.root,
        }
    )
    page = app.window.go(AccountsPage.title)
    assert isinstance(page, AccountsPage)
    page.buttons["Sign in with GitHub Copilot"].click()
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible(), timeout=WAIT)
    assert isinstance(page.dialog, SignInDialog)
    return page.dialog


def _counted(monkeypatch: pytest.MonkeyPatch, answer: FlowDoc | EllipsisType | None = ...) -> list[str]:
    """Every time the dialog asks the gateway about its flow; ``answer``: what the gateway says instead."""
    asked: list[str] = []
    public = sign_in_dialog._public

    def counting(control: Control, flow_id: str) -> FlowDoc | None:
        asked.append(flow_id)
        return public(control, flow_id) if isinstance(answer, EllipsisType) else answer

    monkeypatch.setattr(sign_in_dialog, "_public", counting)
    return asked


def test_a_sign_in_is_followed_until_its_dialog_closes(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _counted(monkeypatch)
    dialog = _dialog(qtbot, make_app, fakes)
    first = dialog.countdown.text()
    qtbot.waitUntil(lambda: len(asked) >= 2, timeout=WAIT)
    assert dialog.countdown.text() != first and "Waiting" in dialog.status.text()
    dialog.reject()
    # What asks is one task: once it has ended, nothing asks again (no waiting to see that nothing does).
    qtbot.waitUntil(dialog._following.done, timeout=WAIT)
    assert dialog._following.cancelled() and not dialog.isVisible()


def test_a_sign_in_the_gateway_no_longer_knows_is_said_and_no_longer_followed(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _counted(monkeypatch, None)
    dialog = _dialog(qtbot, make_app, fakes)
    qtbot.waitUntil(lambda: "no longer known" in dialog.status.text(), timeout=WAIT)
    assert dialog.buttons.buttons()[0].text() == "Close" and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog._following.done() and dialog._watching.done(), timeout=WAIT)
    assert len(asked) == 1
