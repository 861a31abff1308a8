"""The dialogs, the tray's menu and notice, and the answers of the test messages, shot on the X
server ``DISPLAY`` names. Run by scripts/screenshots.py (``--dialogs``) with the state folder and
environment it prepared; the app runs in this process, so each dialog is opened as its button
would open it, without hunting for the button on screen.

Files: ``<prefix>-<what>.png`` in ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import qasync
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QDialog, QScrollArea, QWidget

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.application import Application  # noqa: E402
from app.gateway_host import GatewayHost  # noqa: E402
from app.platform.autostart import XdgAutostart  # noqa: E402
from app.tasks import cancel_all, closing_async_generators  # noqa: E402
from app.theme import apply_theme  # noqa: E402
from app.viewmodels.settings import theme_of  # noqa: E402
from app.windows.accounts import AccountsPage  # noqa: E402
from app.windows.connect import ConnectPage  # noqa: E402
from app.windows.key_dialog import ChangeBudgetDialog, KeyDialog, NewKeyDialog  # noqa: E402
from app.windows.models import ModelsPage  # noqa: E402
from app.windows.providers import ProvidersPage  # noqa: E402
from app.windows.rules import RulesPage  # noqa: E402
from app.windows.settings import SettingsPage  # noqa: E402
from gateway import GatewaySetup, free_port, resolve_paths, secrets_opener  # noqa: E402


async def until(check: Callable[[], object], seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            raise TimeoutError(f"gave up waiting for {check}")
        await asyncio.sleep(0.2)


class Shots:
    def __init__(self, out: Path, prefix: str) -> None:
        self.out, self.prefix = out, prefix

    async def take(self, what: str) -> None:
        await asyncio.sleep(0.8)  # painted, and a popup's shadow settled
        QApplication.processEvents()
        name = self.out / f"{self.prefix}-{what}.png"
        subprocess.run(("import", "-window", "root", str(name)), check=True, timeout=30)
        print(name.name, flush=True)


async def closed(dialog: QWidget | None) -> None:
    if isinstance(dialog, QDialog):
        dialog.reject()
    elif dialog is not None:
        dialog.close()
    await asyncio.sleep(0.3)


async def scenario(app: Application, shots: Shots, size: tuple[int, int]) -> None:
    await until(lambda: app.host.serving)
    welcome = app.welcome  # a first start: the welcome is open
    welcome.move(0, 0)
    await until(lambda: welcome.offers)
    welcome.send_test()
    await until(lambda: welcome.finish_button.text() == "Finish")
    await shots.take("welcome-answered")
    welcome.close()  # the first close: the tray's notice says where Switchboard went
    await shots.take("tray-notice")

    window = app.window
    window.move(0, 0)
    window.resize(*size)
    app.open_window()
    models = window.go(ModelsPage.title)
    assert isinstance(models, ModelsPage)
    await until(lambda: models.picker.count())
    models.picker.setCurrentText("openai/gpt-5-mini")
    models.send()
    await until(lambda: models.trying is None and models.result.text())
    await shots.take("models-tried")

    providers = window.go(ProvidersPage.title)
    assert isinstance(providers, ProvidersPage)
    await until(lambda: "openai" in providers.cards)
    providers.paste_key(providers.card("openai"))
    await shots.take("dialog-provider-key")
    await closed(providers.dialog)
    providers.add_server()
    await shots.take("dialog-add-server")
    await closed(providers.dialog)
    providers.remove(providers.card("mistral"))
    await shots.take("dialog-confirm")
    await closed(providers.box)

    connect = window.go(ConnectPage.title)
    assert isinstance(connect, ConnectPage)
    connect.choose("Claude Code")
    connect.set_up()
    await until(lambda: connect.model_dialog is not None)
    await shots.take("dialog-connect-setup")
    await closed(connect.model_dialog)

    rules = window.go(RulesPage.title)
    assert isinstance(rules, RulesPage)
    await until(lambda: rules.rules and rules.models)
    rules.view.selectRow(0)
    rules.edit()
    await shots.take("dialog-rule")
    await closed(rules.dialog)

    settings = window.go(SettingsPage.title)
    assert isinstance(settings, SettingsPage)
    await until(lambda: settings.keys_model.rows)
    settings.create_key()
    new_key = settings.findChild(NewKeyDialog)
    assert isinstance(new_key, NewKeyDialog)
    new_key.label.setText("laptop")
    new_key.budgets["dollars_per_month"].setText("$40")
    await shots.take("dialog-new-key")
    new_key.done_typing()  # made: the key, shown the one time it can be
    await until(lambda: settings.findChild(KeyDialog) is not None)
    await shots.take("dialog-key-made")
    await closed(settings.findChild(KeyDialog))
    await until(lambda: len(settings.keys_model.rows) == 2)
    settings.keys_view.selectRow(0)
    settings.change_budget()
    await shots.take("dialog-change-budget")
    await closed(settings.findChild(ChangeBudgetDialog))
    area = next(area for area in window.findChildren(QScrollArea) if area.widget() is settings)
    area.verticalScrollBar().setValue(settings.network.y() - 16)  # the proxy and a company certificate at the top
    await shots.take("settings-network")

    accounts = window.go(AccountsPage.title)
    assert isinstance(accounts, AccountsPage)
    accounts.sign_in("codex")
    await until(lambda: accounts.dialog is not None and accounts.dialog.isVisible())
    await shots.take("dialog-sign-in")
    await closed(accounts.dialog)

    app.tray.menu.popup(QPoint(size[0] - 260, 28))
    await shots.take("tray-menu")
    app.tray.menu.hide()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--size", default="1366x768")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    qt = QApplication([sys.argv[0]])
    qt.setApplicationName("switchboard")
    qt.setApplicationDisplayName("Switchboard")
    qt.setQuitOnLastWindowClosed(False)
    paths = resolve_paths(args.home, {})
    paths.ensure()
    opened: list[str] = []  # the browser: nothing is opened for real
    setup = GatewaySetup(
        paths,
        os.environ,
        port=free_port("127.0.0.1", 11488),
        secrets=secrets_opener(os.environ),
        open_browser=opened.append,
    )
    apply_theme(qt, theme_of(setup.config()))
    host = GatewayHost(setup.server)
    autostart = XdgAutostart(args.home / "autostart", ["switchboard"])
    app = Application(host, autostart, setup, open_url=opened.append, update_check_ms=None)
    loop = qasync.QEventLoop(qt)
    asyncio.set_event_loop(loop)

    async def run() -> None:
        app.start()
        try:
            await scenario(app, Shots(args.out, args.prefix), (width, height))
        finally:
            await cancel_all()  # the app's own requests end first, as on quitting
            app.close()
            await asyncio.sleep(0.5)

    with loop, closing_async_generators(loop):
        loop.run_until_complete(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
