"""Words and fixes, not commands (issue 22, point 5): nothing a window can show names a command, a
flag, an environment variable or an errno; a problem with a fix offers it as a button (a busy port:
"Use another port…"; a change that left the gateway unable to start: "Undo that change"), its
technical text behind "Details"; the command line still words each fix as its command.

What a window can show is found three ways: every string literal in app/ (but those a terminal or
the code alone reads: argparse, print, logging, environment look-ups); the message of every failure
the gateway makes outside its command line, raised or returned, its HTTP answers included (the app's
Try it and a tool's test request show them; the detail is the technical text by design, so it is not
scanned); and the texts of the windows themselves, read after driving the failures offscreen.
"""

from __future__ import annotations

import ast
import builtins
import re
import socket
import typing
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from app_fixtures import KEY, WAIT_MS, LoopThread, MakeApp
from conftest import LOCAL_OFF, free_ports, provider_table
from fakes.openai_upstream import FakeOpenAI
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QLabel, QListWidget, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.application import Application
from app.gateway_host import GatewayHost
from app.platform.autostart import XdgAutostart
from app.viewmodels.welcome import NOTHING_FOUND
from app.windows.audit import AuditPage
from app.windows.confirm import confirm
from app.windows.models import ModelsPage
from app.windows.overview import NO_MODELS, OverviewPage
from app.windows.page import ACTOR, Page
from app.windows.providers import ProvidersPage
from app.windows.settings import SettingsPage
from app.windows.sign_in_dialog import SignInDialog
from app.words import BUTTONS, Said, said_of
from gateway import Fix, FixId, FlowDoc, GatewaySetup, ListenError, resolve_paths
from gateway.cli.fixes import COMMANDS, explained
from gateway.errors import reason_of
from gateway.store.secrets import MemorySecrets, place_of

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "a command": re.compile(
        r"python -m |switchboard-gateway|\bgateway (keys|providers|accounts|audit|serve)\b"
        r"|\baccounts (login|import)\b|\bcodex login\b|\bkeys create\b|\bset-key\b"
    ),
    "a flag": re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+"),
    "an environment variable": re.compile(
        r"\b[A-Z][A-Z0-9]*_(?:[A-Z0-9]+_)*(?:KEY|URL|TOKEN|FILE|PASSPHRASE|HOME|SECRETS|PASSWORD|HOST)\b"
        r"|\bSWITCHBOARD_[A-Z_]+"
    ),
    "errno or Python text": re.compile(r"\[Errno|urlopen error|Traceback|Exception:|Error:|<class '"),
}
# Calls whose string arguments no window shows: a terminal's (argparse, print), the log's, and
# the names code looks up (environment variables, dictionary keys).
NOT_SHOWN = {"add_argument", "print", "debug", "info", "warning", "error", "exception", "critical", "get", "getenv"}
# The gateway package whose messages reach no window: the command line words fixes as commands.
TERMINAL = "cli"


def faults(text: str) -> list[str]:
    return [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]


def _text(node: ast.expr) -> str:
    """A string expression's literal parts (an f-string's values stand as {})."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join("{}" if isinstance(v, ast.FormattedValue) else _text(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _text(node.left) + _text(node.right)
    return ""


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def app_strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every string literal a window could show: not docstrings, not what ``NOT_SHOWN`` calls take,
    not subscripts (keys)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        if isinstance(node, ast.Call) and _called(node) in NOT_SHOWN:
            skip.update(id(n) for arg in [*node.args, *(k.value for k in node.keywords)] for n in ast.walk(arg))
        if isinstance(node, ast.Subscript):
            skip.update(id(n) for n in ast.walk(node.slice))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def exception_names(trees: Iterable[ast.Module]) -> set[str]:
    """Python's exception classes, and every class of ``trees`` that derives from one of them."""
    names = {
        name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
    }
    classes = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    grown = True
    while grown:
        grown = False
        for node in classes:
            if node.name not in names and any(_name(base) in names for base in node.bases):
                names.add(node.name)
                grown = True
    return names


def _name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def gateway_messages(exceptions: set[str]) -> Callable[[ast.Module], Iterator[tuple[int, str]]]:
    """The words of every failure made, raised or returned: an exception's first argument (its
    ``detail`` is technical by design)."""

    def messages(tree: ast.Module) -> Iterator[tuple[int, str]]:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and _name(node.func) in exceptions:
                yield node.lineno, _text(node.args[0])

    return messages


def found_in(paths: list[Path], strings: Any) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: {', '.join(faults(text))}: {text[:100]!r}"
        for path in paths
        for line, text in strings(ast.parse(path.read_text(encoding="utf-8")))
        if faults(text)
    ]


def test_the_patterns_catch_what_the_windows_used_to_say() -> None:
    for said in (
        "set OPENAI_API_KEY in the environment, or store one with 'python -m gateway providers set-key openai'",
        "Sign in with 'accounts login copilot' instead, or name another GitHub host with --host.",
        "Stop the other program or choose another port with --port.",
        "readable only by you but not encrypted (set SWITCHBOARD_SECRETS_PASSPHRASE_FILE to encrypt it)",
        "Could not check for updates: [Errno -2] Name or service not known",
        "<urlopen error [Errno 111] Connection refused>",
    ):
        assert faults(said), said
    assert not faults("Port 11488 is already in use by another program. Use another port… LAN mode; API keys")


def test_no_string_in_the_app_names_a_command_flag_variable_or_errno() -> None:
    assert found_in(sorted((ROOT / "app").rglob("*.py")), app_strings) == []


def test_no_failure_the_gateway_makes_names_a_command_flag_variable_or_errno() -> None:
    every = sorted((ROOT / "gateway").rglob("*.py"))
    exceptions = exception_names(ast.parse(path.read_text(encoding="utf-8")) for path in every)
    assert {"UpstreamStatus", "ConfigError", "ToolSetupError", "ValueError"} <= exceptions
    modules = [path for path in every if path.parts[len(ROOT.parts) + 1] != TERMINAL]
    assert found_in(modules, gateway_messages(exceptions)) == []
    for kind in ("keychain", "encrypted file", "memory", "file"):  # where secrets are, as Settings says it
        assert not faults(" ".join(place_of(kind, "/home/ada/.local/share/switchboard/secrets.json")))


def test_every_fix_has_a_command_and_the_cli_still_prints_it() -> None:
    assert set(COMMANDS) == set(typing.get_args(FixId)) and set(BUTTONS) <= set(COMMANDS)
    busy = ListenError("Port 11488 is already in use by another program.", fix=Fix("choose_port"), detail="[Errno 98]")
    assert explained(busy) == (
        "Port 11488 is already in use by another program. Stop the other program or choose another port with "
        "--port. ([Errno 98])"
    )
    keyless = ListenError("No client key.", fix=Fix("add_client_key"))
    assert "keys create" in explained(keyless) and "--host 127.0.0.1" in explained(keyless)
    assert "set-key groq" in explained(ListenError("Groq has no key.", fix=Fix("store_key", "groq")))


def test_a_failed_connection_is_said_in_words_with_the_system_text_as_detail() -> None:
    looked_up = socket.gaierror(-2, "Name or service not known")
    assert reason_of(looked_up).startswith("its name could not be looked up") and not faults(reason_of(looked_up))
    request = httpx.Request("GET", "https://updates.example/feed.json")
    said = said_of(httpx.ConnectError("[Errno -2] Name or service not known", request=request))
    assert said == "updates.example cannot be reached. Check the internet connection." and not faults(said)
    assert said.fix == Fix("check_connection", "updates.example") and "[Errno -2]" in said.detail
    assert said_of(OSError("the update server answered 404 Not Found")) == "the update server answered 404 Not Found"
    words = Said("Not removed.", Fix("store_key", "groq"), "why") + " More."
    assert (words, words.fix, words.detail) == ("Not removed. More.", Fix("store_key", "groq"), "why")


def test_a_file_that_failed_is_said_as_a_file_not_as_the_network() -> None:
    settings = "/home/ada/.claude/settings.json"
    denied = said_of(PermissionError(13, "Permission denied", settings))
    assert denied == f"Switchboard is not allowed to read or change “{settings}”." and denied.fix is None
    assert denied.detail == f"PermissionError: [Errno 13] Permission denied: '{settings}'" and not faults(denied)
    assert said_of(FileNotFoundError(2, "No such file or directory", "/x/y")) == "Switchboard could not find “/x/y”."
    full = said_of(OSError(28, "No space left on device"))
    assert full == "There is no room left on the disk for a file it needs." and "[Errno 28]" in full.detail
    for unreachable in (ConnectionRefusedError(111, "Connection refused"), OSError(113, "No route to host")):
        said = said_of(unreachable)
        assert said.endswith("cannot be reached. Check the internet connection.") and said.fix is not None


def test_confirm_names_what_stops_and_does_nothing_on_cancel(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    done: list[str] = []
    box = confirm(parent, "Remove the keys of Groq?", "Groq's models stop answering.", lambda: done.append("x"))
    assert box.informativeText() == "Groq's models stop answering." and box.defaultButton().text() != "Remove"
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert done == []
    box = confirm(parent, "Remove the keys of Groq?", "Groq's models stop answering.", lambda: done.append("x"))
    next(b for b in box.buttons() if b.text() == "Remove").click()
    assert done == ["x"]


# --- the windows, driven -------------------------------------------------------------------------------


def shown_texts(window: QWidget) -> list[str]:
    """What the window (or a page of it) shows: every label, button, list entry, table cell and
    message box text visible in it; a page need not be the one in front."""
    texts = [label.text() for label in window.findChildren(QLabel) if label.isVisibleTo(window)]
    texts += [b.text() for b in window.findChildren(QAbstractButton) if b.isVisibleTo(window)]
    for listing in window.findChildren(QListWidget):
        texts += [listing.item(row).text() for row in range(listing.count())]
    for view in window.findChildren(QAbstractItemView):
        model = view.model()
        if model is not None and not isinstance(view, QListWidget):
            cells = (model.index(r, c) for r in range(model.rowCount()) for c in range(model.columnCount()))
            texts += [str(model.data(cell) or "") for cell in cells]
    for box in window.findChildren(QMessageBox):
        texts += [box.text(), box.informativeText()]
    return texts


def assert_plain(window: QWidget) -> None:
    bad = [(text, faults(text)) for text in shown_texts(window) if faults(text)]
    assert bad == []


def _app_on(qtbot: QtBot, tmp_path: Path, config: str) -> tuple[Application, Path]:
    """An app over a state folder whose settings file is ``config`` (no port chosen at launch)."""
    paths = resolve_paths(tmp_path / "words", {})
    paths.ensure()
    paths.config_file.write_text(config + LOCAL_OFF, encoding="utf-8")
    secrets = MemorySecrets()
    setup = GatewaySetup(paths, {}, secrets=lambda _: secrets)
    host = GatewayHost(setup.server)
    app = Application(
        host, XdgAutostart(tmp_path / "x", ["switchboard"]), setup, tray_available=False, update_check_ms=None
    )
    return app, paths.config_file


def test_a_busy_port_offers_another_port_which_starts_it(qtbot: QtBot, qt_loop: Any, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app, config = _app_on(qtbot, tmp_path, f"# mine\n[server]\nport = {port}\n")
        try:
            with qtbot.waitSignal(app.host.failed, timeout=WAIT_MS):
                app.start()
            page = app.window.go(OverviewPage.title)
            assert isinstance(page, OverviewPage)
            app.window.show()
            qtbot.waitUntil(lambda: page.fix_button.isVisible(), timeout=WAIT_MS)
            assert page.note.text() == (
                f"The gateway could not start: Port {port} is already in use by another program "
                "(is Switchboard already running?)."
            )
            assert page.fix_button.text() == "Use another port…" and page.details_button.isVisible()
            qtbot.waitUntil(lambda: page.state.text() == "Stopped", timeout=WAIT_MS)  # said once, not thrice
            assert page.problems.lines() == []
            assert not page.details.isVisible()
            page.details_button.click()  # the system's own words, one click away and copyable
            assert page.details.isVisible() and "[Errno" in page.details.text() and page.copy_details.isVisible()
            page.details_button.click()
            settings = app.window.pages[SettingsPage.title]
            assert settings.fix_button.text() == "Use another port…"  # where the port is chosen, too
            assert_plain(app.window)

            page.fix_button.click()
            qtbot.waitUntil(lambda: app.host.serving, timeout=WAIT_MS)
            qtbot.waitUntil(lambda: "listens" in page.note.text() or "in use now" in page.note.text(), timeout=WAIT_MS)
            chosen = int(app.host.url.rsplit(":", 1)[1])
            assert chosen != port and f"port = {chosen}" in config.read_text() and "# mine" in config.read_text()
            assert page.note.text().startswith(f"Port {chosen} is free.") and not page.fix_button.isVisible()
            assert_plain(app.window)
        finally:
            app.close()
            app.window.deleteLater()


def test_a_change_that_broke_the_start_is_undone_by_its_button(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = app.window.go(SettingsPage.title)
    assert isinstance(page, SettingsPage)
    stopped = app.host.stop()  # stopped (not paused): an edit starts it
    qtbot.waitUntil(stopped.done, timeout=WAIT_MS)
    config = page.context.setup.paths.config_file
    before = config.read_text()
    # Every interface with no client key: the settings read, but the gateway will not start so.
    page.change_config([("server", "host", "0.0.0.0")], lambda edited: page.say_done("Saved.", edited.applied))
    qtbot.waitUntil(lambda: page.fix_button.isVisible(), timeout=WAIT_MS)
    assert page.note.text().startswith("Saved. The gateway could not start: ") and "client key" in page.note.text()
    assert page.fix_button.text() == "Undo that change" and not app.host.serving
    assert_plain(app.window)

    page.fix_button.click()
    qtbot.waitUntil(lambda: app.host.serving, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.note.text().startswith("The previous settings are back."), timeout=WAIT_MS)
    assert config.read_text() == before and not page.fix_button.isVisible()


def test_lan_mode_refused_live_for_want_of_a_key_offers_to_make_one(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = app.window.go(SettingsPage.title)
    assert isinstance(page, SettingsPage)
    page.change_config([("server", "host", "0.0.0.0")], lambda edited: None)  # the admin door refuses it
    qtbot.waitUntil(lambda: page.fix_button.isVisible(), timeout=WAIT_MS)
    assert "client key" in page.note.text() and page.fix_button.text() == "Create a client key…"
    assert_plain(app.window)


def test_overview_says_there_are_no_models_yet_and_offers_to_add_a_provider(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = app.window.go(OverviewPage.title)
    assert isinstance(page, OverviewPage)
    app.window.show()
    qtbot.waitUntil(lambda: page.add_provider.isVisible(), timeout=WAIT_MS)
    assert page.problems.lines() == [NO_MODELS]
    page.add_provider.click()
    assert app.window.current.title != OverviewPage.title and "provider" in app.window.current.title.lower()
    assert_plain(app.window)


@pytest.mark.parametrize("fix", sorted(BUTTONS))
def test_a_button_shows_only_where_a_page_makes_the_fix(qtbot: QtBot, make_app: MakeApp, fix: FixId) -> None:
    app = make_app()
    page: Page = app.window.go(OverviewPage.title)
    page.say(Said("Something is wrong.", Fix(fix)), error=True)
    makers = [p.title for p in app.window.pages.values() if fix in p.fixes]
    assert page.fix_button.isVisibleTo(page) == bool(makers)


def test_every_page_the_welcome_and_the_sign_in_filled_say_nothing_of_a_terminal(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread
) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app = make_app({"FAKE_KEY": KEY}, provider_table("fake", fake), first_run=True)
    app.host.call(lambda control: control.create_key("laptop", "standard", {}, ACTOR)).result(WAIT_MS / 1000)
    app.window.show()
    for title in app.window.pages:  # each page shown once: it fetches what it shows
        app.window.go(title)
    models = app.window.pages[ModelsPage.title]
    providers = app.window.pages[ProvidersPage.title]
    audit = app.window.pages[AuditPage.title]
    assert isinstance(models, ModelsPage) and isinstance(providers, ProvidersPage) and isinstance(audit, AuditPage)
    filled = lambda: bool(models.rows) and "fake" in providers.cards and audit.model.rowCount() > 0  # noqa: E731
    qtbot.waitUntil(filled, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: app.welcome.looking.text() == NOTHING_FOUND, timeout=WAIT_MS)
    for page in app.window.pages.values():
        assert_plain(page)
    assert_plain(app.welcome)

    (port,) = free_ports(1)  # a sign-in page that cannot be reached: offline is said
    flow: FlowDoc = {"flow": "f", "kind": "codex", "status": "pending", "authorize_url": f"http://127.0.0.1:{port}/"}
    dialog = SignInDialog(audit.context, flow, audit)
    dialog.open()
    qtbot.waitUntil(lambda: dialog.offline, timeout=WAIT_MS)
    assert_plain(dialog)
    dialog.reject()
    fakes.run(fake.stop())
