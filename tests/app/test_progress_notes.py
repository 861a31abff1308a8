"""Progress notes end: a change made while the gateway was starting is applied to the gateway once
it has started (one gateway, not two), and the page's note says so — "in use now." or why not —
instead of staying on "Starting the gateway with it…"; and work the gateway stopped under says so
in words, not with the error of a pool closed under it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import cast

import pytest
from app_fixtures import MakeApp
from pytestqt.qtbot import QtBot

from app.gateway_host import GatewayHost, NotServing
from app.windows.quotas import QuotasPage
from app.words import Said, said_of
from gateway import Fix, GatewayServer, ListenError

WAIT = 15_000


class SlowServer:
    """A server as the host sees one, whose start takes a while."""

    def __init__(self, made: list[SlowServer]) -> None:
        made.append(self)
        self.port: int | None = None
        self.url = f"http://127.0.0.1:{1000 + len(made)}"
        self.on_applied: list[object] = []
        self.control: object | None = object()  # what the host hands the work it is asked to do
        self.reconfigured = 0

    async def start(self) -> None:
        await asyncio.sleep(0.3)
        self.port = 1

    async def stop(self) -> None:
        self.port = None
        self.control = None

    async def reconfigure(self) -> None:
        self.reconfigured += 1
        for told in self.on_applied:
            told()  # type: ignore[operator]


@pytest.fixture
def made() -> Iterator[list[SlowServer]]:
    servers: list[SlowServer] = []
    yield servers


def _host(made: list[SlowServer]) -> GatewayHost:
    return GatewayHost(lambda: cast(GatewayServer, SlowServer(made)))


def test_a_change_during_a_start_is_applied_to_the_one_gateway_started(qtbot: QtBot, made: list[SlowServer]) -> None:
    host = _host(made)
    try:
        with qtbot.waitSignal(host.applied, timeout=WAIT):
            starting = host.start()
            host.reconfigure().result(10)  # waits for the start, then applies to it
        starting.result(10)
        assert len(made) == 1 and made[0].reconfigured == 1 and host.serving
        host.start().result(10)  # started already: nothing more is made
        assert len(made) == 1
    finally:
        host.shutdown(10)


def test_a_pause_during_a_start_leaves_it_paused(qtbot: QtBot, made: list[SlowServer]) -> None:
    host = _host(made)
    try:
        starting = host.start()
        qtbot.waitUntil(lambda: len(made) == 1, timeout=WAIT)  # being started
        host.pause(True).result(10)
        starting.result(10)
        host.reconfigure().result(10)  # a paused gateway reads the change when resumed
        assert not host.serving and len(made) == 1
        host.pause(False).result(10)
        assert host.serving and len(made) == 2
    finally:
        host.shutdown(10)


def test_the_note_of_a_change_made_during_a_start_ends(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()  # on a page that asks the gateway nothing when shown, so only the change speaks
    page = app.window.go(QuotasPage.title)
    assert isinstance(page, QuotasPage)
    app.host.stop().result(10)
    page.say_done("Saved.", False)  # written while stopped: the gateway is started with it
    assert page.note.text() == "Saved. Starting the gateway with it…"
    app.host.start()
    qtbot.waitUntil(lambda: page.note.text() == "Saved. in use now.", timeout=WAIT)

    page.say_done("Saved.", False)  # written while it started: the host applies it to the gateway
    assert page.note.text() == "Saved. Applying it…"
    app.host.reconfigure()
    qtbot.waitUntil(lambda: page.note.text() == "Saved. in use now.", timeout=WAIT)


def test_a_change_the_gateway_refused_says_why(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = app.window.go(QuotasPage.title)
    assert isinstance(page, QuotasPage)
    page.say_done("Saved.", False)
    app.host.refused.emit("That setting cannot be used.")  # as the host says it when an apply fails
    assert page.note.property("error") is True
    assert page.note.text() == "Saved. It could not be applied: That setting cannot be used."


def test_a_refusal_with_a_fix_offers_it(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = app.window.go(QuotasPage.title)
    assert isinstance(page, QuotasPage)
    page.say_done("Saved.", False)
    busy = ListenError("Port 11488 is already in use by another program.", fix=Fix("choose_port"), detail="[Errno 98]")
    with qtbot.waitSignal(app.host.refused) as refused:
        app.host.refused.emit(said_of(busy))  # a Said, across a signal: the fix arrives with it
    assert isinstance(refused.args[0], Said) and refused.args[0].fix == Fix("choose_port")
    assert page.note.text() == "Saved. It could not be applied: Port 11488 is already in use by another program."
    assert page.fix_button.text() == "Use another port…" and page.details_button.isVisible()


def test_work_the_gateway_stopped_under_says_so_in_words(qtbot: QtBot, made: list[SlowServer]) -> None:
    host = _host(made)
    try:
        host.start().result(10)
        begun = threading.Event()

        async def answer_after_a_stop(control: object) -> None:
            begun.set()
            await asyncio.sleep(0.3)  # meanwhile the gateway stops: its pools shut down
            raise RuntimeError("cannot schedule new futures after shutdown")

        asked = host.call(answer_after_a_stop)
        assert begun.wait(10)
        host.stop().result(10)
        with pytest.raises(NotServing) as raised:
            asked.result(10)
        assert str(raised.value) == "The gateway stopped before it answered."
    finally:
        host.shutdown(10)


def test_a_file_the_gateway_could_not_read_is_said_in_words(qtbot: QtBot, made: list[SlowServer]) -> None:
    database = "/home/ada/.local/share/switchboard/usage.db"

    class Unreadable(SlowServer):
        async def start(self) -> None:
            raise PermissionError(13, "Permission denied", database)

        async def reconfigure(self) -> None:
            raise PermissionError(13, "Permission denied", database)

    host = GatewayHost(lambda: cast(GatewayServer, Unreadable(made)))
    try:
        with qtbot.waitSignal(host.failed, timeout=WAIT) as failed:
            host.start()
        said = f"Switchboard is not allowed to read or change “{database}”."
        assert failed.args == [said] and host.error == said and "[Errno 13]" in getattr(host.error, "detail", "")
    finally:
        host.shutdown(10)

    host = _host(made)
    try:
        host.start().result(10)
        made[-1].reconfigure = Unreadable.reconfigure.__get__(made[-1])  # type: ignore[method-assign]
        with qtbot.waitSignal(host.refused, timeout=WAIT) as refused:
            host.reconfigure()
        assert refused.args == [f"Switchboard is not allowed to read or change “{database}”."]
        assert isinstance(refused.args[0], Said) and "[Errno 13]" in refused.args[0].detail  # whole, across threads
    finally:
        host.shutdown(10)
