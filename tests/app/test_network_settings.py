"""Settings' Network section and a provider's "Connection…", against a real in-process gateway and
a forward proxy on loopback: a proxy set in the app lands in config.toml with its user name alone
(the password in the secret store, in no audit entry), a request goes through it with its
credentials once saved, and the line under the section says which proxy is in use and who named
it (or why this computer's cannot be used); "No proxy" bypasses the environment's proxy, for every
provider or one; a company certificate is trusted once chosen, a file that is none refused in
words, and removed again."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_fixtures import LoopThread, MakeApp
from fakes.forward_proxy import UPSTREAM_NAME, ForwardProxy
from fakes.openai_upstream import FakeOpenAI
from fakes.tls import TestCA
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from app.application import Application
from app.windows.network_settings import ConnectionDialog
from app.windows.providers import ProvidersPage
from app.windows.settings import SettingsPage
from gateway.store import audit
from gateway.transport.http1 import Http1Transport

WAIT = 15_000
PASSWORD = "hunter2-proxy-pass"
KEY = "sk-cloud-provider-00001"
HI = {"model": "cloud/gpt-test", "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca", (UPSTREAM_NAME,))


@pytest.fixture
def cloud(fakes: LoopThread, ca: TestCA) -> Iterator[FakeOpenAI]:
    fake = fakes.run(FakeOpenAI(key=KEY).start(ca.server_context()))
    yield fake
    fakes.run(fake.stop())


def provider(cloud: FakeOpenAI, ca: TestCA) -> str:
    """A provider over TLS at a name only the proxy (or the test's resolver) knows, its certificate
    from the test's root (loopback is never proxied)."""
    return (
        f'[network]\nca_file = "{ca.ca_file}"\n'
        f'[providers.cloud]\nkind = "openai-compatible"\nbase_url = "https://{UPSTREAM_NAME}:{cloud.port}/v1"\n'
        'api_key_env = "CLOUD_KEY"\nmodels = ["gpt-test"]\nconnect_timeout = 2\n'
    )


def chat(app: Application) -> int:
    request = urllib.request.Request(
        f"{app.host.url}/v1/chat/completions", json.dumps(HI).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=15) as reply:
        return int(reply.status)


def settings_page(app: Application, qtbot: QtBot) -> SettingsPage:
    app.window.show()
    page = app.window.go(SettingsPage.title)
    assert isinstance(page, SettingsPage)
    qtbot.waitUntil(lambda: bool(page.config), timeout=WAIT)
    return page


def config_text(app: Application) -> str:
    return app.host.server.settings.config_file.read_text(encoding="utf-8")  # type: ignore[union-attr]


def audited(app: Application) -> list[tuple[str, dict[str, Any]]]:
    state = app.host.server.state  # type: ignore[union-attr]
    assert state is not None
    state.db.writer.flush()
    conn = sqlite3.connect(state.db.path)
    try:
        return [(e.action, e.payload) for e in audit.events(conn, 0, 1000)]
    finally:
        conn.close()


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The upstream's name resolves to this computer, as a name on the company network would (the
    gateway's loop may not ask ``socket``, so its transport's lookup is the one told)."""
    real = Http1Transport._addresses

    async def lookup(transport: Http1Transport, host: str, port: int) -> list[tuple[int, str]]:
        return await real(transport, "127.0.0.1" if host == UPSTREAM_NAME else host, port)

    monkeypatch.setattr(Http1Transport, "_addresses", lookup)


def test_a_proxy_set_in_settings_carries_requests_and_keeps_its_password_out_of_the_file(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, cloud: FakeOpenAI, ca: TestCA
) -> None:
    proxy = fakes.run(ForwardProxy(("ann", PASSWORD)).start())
    try:
        app = make_app({"CLOUD_KEY": KEY}, provider(cloud, ca))
        page = settings_page(app, qtbot)
        box = page.network
        qtbot.waitUntil(lambda: "this computer names no proxy" in box.in_use.text(), timeout=WAIT)
        box.fields.buttons["proxy"].click()
        box.fields.address.setText(f"http://{proxy.where}")
        box.fields.user.setText("ann")
        box.fields.password.setText(PASSWORD)
        box.apply_button.click()
        qtbot.waitUntil(lambda: page.note.text().startswith("Proxy saved."), timeout=WAIT)

        text = config_text(app)
        assert f'proxy = "http://ann@{proxy.where}"' in text and PASSWORD not in text
        assert PASSWORD in app.secrets.values.values()  # type: ignore[attr-defined]
        assert not box.fields.password.text() and box.fields.password.placeholderText().startswith(
            "Leave empty to keep"
        )
        qtbot.waitUntil(lambda: box.in_use.text() == f"Going through {proxy.where}, set here.", timeout=WAIT)
        assert chat(app) == 200
        assert [(s.method, s.target) for s in proxy.seen] == [("CONNECT", f"{UPSTREAM_NAME}:{cloud.port}")]
        assert proxy.seen[0].headers["Proxy-Authorization"].startswith("Basic ")
        events = audited(app)
        assert ("proxy.password_stored", {"setting": "network.proxy", "proxy": f"http://ann@{proxy.where}"}) in events
        assert PASSWORD not in json.dumps(events) and PASSWORD not in page.note.text() + box.in_use.text()

        box.fields.address.setText("ftp://nowhere:21")  # refused in words, the settings as they were
        box.apply_button.click()
        qtbot.waitUntil(lambda: "is not a proxy address" in page.note.text(), timeout=WAIT)
        assert f'proxy = "http://ann@{proxy.where}"' in config_text(app)
    finally:
        fakes.run(proxy.stop())


def test_no_proxy_bypasses_the_environments_proxy(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, cloud: FakeOpenAI, ca: TestCA, resolver: None
) -> None:
    proxy = fakes.run(ForwardProxy().start())
    try:
        app = make_app({"CLOUD_KEY": KEY, "HTTPS_PROXY": f"http://{proxy.where}"}, provider(cloud, ca))
        page = settings_page(app, qtbot)
        box = page.network
        said = f"Going through {proxy.where}, named by this computer's settings."
        qtbot.waitUntil(lambda: box.in_use.text() == said, timeout=WAIT)
        assert "PROXY" not in box.in_use.text()
        assert chat(app) == 200 and len(proxy.seen) == 1

        box.fields.buttons["direct"].click()
        box.apply_button.click()
        qtbot.waitUntil(lambda: page.note.text().startswith("Proxy saved."), timeout=WAIT)
        assert 'proxy = "direct"' in config_text(app)
        qtbot.waitUntil(lambda: box.in_use.text() == "Going directly to providers, as set here.", timeout=WAIT)
        assert chat(app) == 200 and len(proxy.seen) == 1  # straight to the provider

        box.fields.buttons["system"].click()  # back to the environment's
        box.apply_button.click()
        qtbot.waitUntil(lambda: box.in_use.text() == said, timeout=WAIT)
        assert "proxy =" not in config_text(app)
    finally:
        fakes.run(proxy.stop())


def test_an_unusable_proxy_of_this_computers_is_said_and_no_proxy_gets_through(
    qtbot: QtBot, make_app: MakeApp, cloud: FakeOpenAI, ca: TestCA, resolver: None
) -> None:
    app = make_app(
        {"CLOUD_KEY": KEY, "HTTPS_PROXY": f"https://ann:{PASSWORD}@proxy.corp.example:3128"}, provider(cloud, ca)
    )
    page = settings_page(app, qtbot)  # the app started
    box = page.network
    qtbot.waitUntil(lambda: box.in_use.text().startswith("Calls to providers fail: "), timeout=WAIT)
    assert "(https://proxy.corp.example:3128) cannot be used" in box.in_use.text()
    assert "PROXY" not in box.in_use.text() and PASSWORD not in box.in_use.text()
    with pytest.raises(urllib.error.HTTPError) as refused:
        chat(app)
    assert refused.value.code == 502 and not cloud.requests  # not gone around the proxy, directly

    box.fields.buttons["direct"].click()
    box.apply_button.click()
    qtbot.waitUntil(lambda: box.in_use.text() == "Going directly to providers, as set here.", timeout=WAIT)
    assert chat(app) == 200


def test_a_providers_own_connection_bypasses_the_proxy(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, cloud: FakeOpenAI, ca: TestCA, resolver: None
) -> None:
    proxy = fakes.run(ForwardProxy().start())
    try:
        app = make_app({"CLOUD_KEY": KEY, "HTTPS_PROXY": f"http://{proxy.where}"}, provider(cloud, ca))
        app.window.show()
        page = app.window.go(ProvidersPage.title)
        assert isinstance(page, ProvidersPage)
        qtbot.waitUntil(lambda: "cloud" in page.cards, timeout=WAIT)
        page.set_connection("cloud")
        qtbot.waitUntil(lambda: isinstance(page.dialog, ConnectionDialog), timeout=WAIT)
        dialog = page.dialog
        assert isinstance(dialog, ConnectionDialog) and dialog.fields.buttons["system"].isChecked()
        dialog.fields.buttons["direct"].click()
        dialog.save()
        qtbot.waitUntil(lambda: "Saved the connection of" in page.note.text(), timeout=WAIT)
        assert 'proxy = "direct"' in config_text(app).partition("[providers.cloud]")[2]
        assert chat(app) == 200 and proxy.seen == []
    finally:
        fakes.run(proxy.stop())


def test_a_company_certificate_is_chosen_refused_in_words_and_removed(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path, ca: TestCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    page = settings_page(app, qtbot)
    box = page.network
    assert not box.remove_ca.isEnabled()
    chosen: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (chosen[-1], ""))
    not_one = tmp_path / "notes.pem"
    not_one.write_text("not a certificate\n", encoding="utf-8")
    chosen.append(str(not_one))
    box.choose_ca.click()
    qtbot.waitUntil(lambda: "cannot be used: it must hold PEM certificates" in page.note.text(), timeout=WAIT)
    assert "ca_file" not in config_text(app) and not box.remove_ca.isEnabled()

    chosen.append(str(ca.ca_file))
    box.choose_ca.click()
    qtbot.waitUntil(lambda: page.note.text().startswith("Company certificate trusted."), timeout=WAIT)
    assert f'ca_file = "{ca.ca_file}"' in config_text(app)
    assert box.ca_label.text() == str(ca.ca_file) and box.remove_ca.isEnabled()
    server = app.host.server
    assert server is not None and server.settings.network.ca_file == ca.ca_file.resolve()

    box.remove_ca.click()
    qtbot.waitUntil(lambda: page.note.text().startswith("Company certificate removed."), timeout=WAIT)
    assert "ca_file" not in config_text(app) and not box.remove_ca.isEnabled()
