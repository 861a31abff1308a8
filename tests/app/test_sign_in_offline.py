"""The ChatGPT sign-in dialog: its link can be copied (to open it in another browser), and it says
when the sign-in page's server cannot be reached — and again when it can — instead of waiting in
silence. "Offline" here is a loopback port nobody listens on, until something does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from app_fixtures import LoopThread, MakeApp
from conftest import free_ports
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.windows import sign_in_dialog
from app.windows.accounts import AccountsPage
from app.windows.sign_in_dialog import SignInDialog
from gateway import Control, FlowDoc

WAIT = 15_000


def _flow(url: str) -> FlowDoc:
    return {"flow": "f1", "kind": "codex", "status": "pending", "authorize_url": url, "callback_port": 1455}


@pytest.fixture
def pending(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The gateway says the sign-in is still under way, however often it is asked."""

    def still_pending(control: Control, flow_id: str) -> FlowDoc:
        return _flow("")

    monkeypatch.setattr(sign_in_dialog, "_public", still_pending)
    monkeypatch.setattr(sign_in_dialog, "ONLINE_CHECK_S", 0.2)
    yield


def _dialog(make_app: MakeApp, url: str) -> SignInDialog:
    page = make_app().window.go(AccountsPage.title)
    assert isinstance(page, AccountsPage)
    dialog = SignInDialog(page.context, _flow(url), page)
    dialog.open()
    return dialog


def test_the_sign_in_link_can_be_copied(qtbot: QtBot, make_app: MakeApp, pending: None) -> None:
    url = "http://127.0.0.1:9/oauth/authorize?client_id=x&state=y"
    dialog = _dialog(make_app, url)
    copy = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Copy link")
    copy.click()
    assert QGuiApplication.clipboard().text() == url
    dialog.reject()


def test_offline_is_said_and_so_is_back_online(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, pending: None
) -> None:
    (port,) = free_ports(1)
    dialog = _dialog(make_app, f"http://127.0.0.1:{port}/oauth/authorize")
    qtbot.waitUntil(lambda: dialog.offline, timeout=WAIT)
    text = dialog.status.text()
    assert text.startswith("This computer seems to be offline: 127.0.0.1 cannot be reached")
    assert "Check the internet connection" in text and dialog.isVisible()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    async def listen() -> asyncio.Server:
        return await asyncio.start_server(answer, "127.0.0.1", port)

    server = fakes.run(listen())
    qtbot.waitUntil(lambda: not dialog.offline, timeout=WAIT)
    assert dialog.status.text().startswith("Back online: finish signing in")
    dialog.reject()

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    fakes.run(stop())


def test_a_reachable_sign_in_page_says_nothing_of_being_offline(
    qtbot: QtBot, make_app: MakeApp, pending: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked: list[bool] = []  # each check's answer, as it comes: the test waits for checks, not for time

    async def reachable(url: str) -> bool:
        looked.append(await really_reachable(url))
        return looked[-1]

    really_reachable = sign_in_dialog.reachable
    monkeypatch.setattr(sign_in_dialog, "reachable", reachable)
    app = make_app()
    page = app.window.go(AccountsPage.title)
    assert isinstance(page, AccountsPage)
    dialog = SignInDialog(page.context, _flow(f"{app.host.url}/oauth/authorize"), page)  # the gateway answers
    dialog.open()
    qtbot.waitUntil(lambda: len(looked) >= 2, timeout=WAIT)
    assert looked[:2] == [True, True]
    assert not dialog.offline and dialog.status.text() == "Waiting for you to finish in the browser…"
    dialog.reject()


def test_closing_the_dialog_stops_its_checks(qtbot: QtBot, make_app: MakeApp, pending: None) -> None:
    (port,) = free_ports(1)
    dialog = _dialog(make_app, f"http://127.0.0.1:{port}/oauth/authorize")
    qtbot.waitUntil(lambda: dialog.offline, timeout=WAIT)
    dialog.reject()
    qtbot.waitUntil(lambda: dialog._watching.done() and dialog._following.done(), timeout=WAIT)
    assert dialog._watching.cancelled() and dialog._following.cancelled()
