"""Every page against a real in-process gateway and the fakes: a key added makes its models
appear; the Copilot device flow completes; the Codex import reads an auth.json; quota meters show
the fake's windows; "Verify chain" reports a tampered row; the overview counts today."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

from app_fixtures import KEY, LoopThread, MakeApp, codex_login
from fakes.chatgpt import FakeChatGPT
from fakes.github_copilot import USER_CODE, FakeCopilot
from fakes.openai_upstream import FakeOpenAI
from pytestqt.qtbot import QtBot

from app.windows.accounts import AccountsPage
from app.windows.audit import AuditPage
from app.windows.overview import OverviewPage
from app.windows.providers import ProvidersPage
from app.windows.quotas import QuotasPage
from app.windows.sign_in_dialog import SignInDialog
from app.windows.usage import UsagePage

WAIT = 15_000


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_a_key_added_makes_its_models_appear(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app = make_app({"GROQ_BASE_URL": fake.url})
    page = app.window.go(ProvidersPage.title)
    assert isinstance(page, ProvidersPage)
    qtbot.waitUntil(lambda: any(r["id"] == "groq" for r in page.rows), timeout=WAIT)
    groq = next(r for r in page.rows if r["id"] == "groq")
    assert not groq["configured"] and groq["models"] == []
    assert not any(m["id"].startswith("groq/") for m in _get(f"{app.host.url}/v1/models")["data"])

    page.store("groq", (KEY,))
    qtbot.waitUntil(lambda: "in use now" in page.note.text(), timeout=WAIT)  # applied live: no restart
    qtbot.waitUntil(lambda: any(r["id"] == "groq" and r["models"] for r in page.rows), timeout=WAIT)
    groq = next(r for r in page.rows if r["id"] == "groq")
    assert groq["configured"] and groq["keys"] == 1
    listed = {m["id"] for m in _get(f"{app.host.url}/v1/models")["data"]}
    assert {f"groq/{m}" for m in fake.models} <= listed
    assert KEY not in page.note.text() and app.secrets.get("provider-key:groq") == KEY  # type: ignore[attr-defined]

    page.test("groq")  # the Test button asks the provider now
    qtbot.waitUntil(lambda: "answers" in page.note.text(), timeout=WAIT)
    assert f"{len(fake.models)} models" in page.note.text()
    fakes.run(fake.stop())


def test_the_copilot_device_flow_completes(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread) -> None:
    fake = fakes.run(FakeCopilot().start())
    fake.polls = ["authorization_pending"]
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
    dialog = page.dialog
    assert isinstance(dialog, SignInDialog)
    assert dialog.code.text() == USER_CODE and "expires in" in dialog.countdown.text()
    copy = next(b for b in dialog.findChildren(type(page.remove_button)) if b.text() == "Copy code")
    copy.click()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == USER_CODE
    browse = next(b for b in dialog.findChildren(type(page.remove_button)) if b.text() == "Open github.com")
    browse.click()
    assert app.opened[-1].endswith("/login/device")  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: [r["label"] for r in page.model.rows] == ["copilot:octocat"], timeout=WAIT)
    assert "Connected copilot:octocat" in page.note.text()
    assert page.model.text(0, 3) == "Working"  # the risk is said in words under the list, not as a tag
    fakes.run(fake.stop())


def test_the_codex_import_reads_an_auth_json_and_its_quota_shows(
    qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, tmp_path: Path
) -> None:
    fake = fakes.run(FakeChatGPT().start())
    app = make_app(codex_login(fake, tmp_path))
    page = app.window.go(AccountsPage.title)
    assert isinstance(page, AccountsPage)
    page.buttons["Import Codex login"].click()
    qtbot.waitUntil(lambda: len(page.model.rows) == 1, timeout=WAIT)
    row = page.model.rows[0]
    assert (
        row["label"] == "codex:ada@example.com" and row["plan"] == "plus" and page.model.text(0, 1) == "ChatGPT (Codex)"
    )
    assert "Risk:" in page.risk.text()

    quotas = app.window.go(QuotasPage.title)
    assert isinstance(quotas, QuotasPage)
    quotas.ask_now()
    qtbot.waitUntil(lambda: len(quotas.meters) >= 2, timeout=WAIT)
    titles = [m.title.text() for m in quotas.meters.values()]
    assert (
        "ChatGPT · ada@example.com — 5-hour window" in titles and "ChatGPT · ada@example.com — weekly window" in titles
    )
    five = next(m for m in quotas.meters.values() if m.title.text().endswith("5-hour window"))
    assert five.bar.format().endswith("% used") and "Resets in" in five.detail.text()
    fakes.run(fake.stop())


def test_verify_chain_reports_a_tampered_row(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = app.window.go(AuditPage.title)
    assert isinstance(page, AuditPage)
    qtbot.waitUntil(lambda: any(r["action"] == "gateway.started" for r in page.model.rows), timeout=WAIT)
    page.verify_button.click()
    qtbot.waitUntil(lambda: "intact" in page.verdict.text(), timeout=WAIT)

    database = next((app.host.server.state.data_dir).glob("*.db"))  # type: ignore[union-attr]
    with sqlite3.connect(database) as conn:
        conn.execute('UPDATE audit SET payload = \'{"host": "0.0.0.0"}\' WHERE seq = 1')
    page.verify_button.click()
    qtbot.waitUntil(lambda: "broken" in page.verdict.text(), timeout=WAIT)
    assert "entry 1" in page.verdict.text()

    page.filter.setText("gateway.started")
    assert page.proxy.rowCount() >= 1
    page.filter.setText("no-such-action")
    assert page.proxy.rowCount() == 0


def test_the_overview_and_usage_count_today(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread, tmp_path: Path) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    app = make_app({"GROQ_BASE_URL": fake.url, "GROQ_API_KEY": KEY})
    page = app.window.go(OverviewPage.title)
    assert isinstance(page, OverviewPage)
    qtbot.waitUntil(lambda: page.address.text() == app.host.url, timeout=WAIT)
    body = json.dumps({"model": f"groq/{fake.models[0]}", "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(f"{app.host.url}/v1/chat/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 200
    qtbot.waitUntil(lambda: page.requests.text() == "1", timeout=WAIT)
    assert int(page.tokens.text().replace(",", "")) > 0
    assert page.models.rows[0]["name"] == f"groq/{fake.models[0]}"
    assert page.problems.lines()[0].startswith("None")

    usage = app.window.go(UsagePage.title)
    assert isinstance(usage, UsagePage)
    qtbot.waitUntil(lambda: len(usage.recent.rows) == 1, timeout=WAIT)
    assert usage.chart.bars and usage.chart.bars[-1][1] > 0
    assert usage.groups.rows[0]["name"] == f"groq/{fake.models[0]}"
    usage.filter.setText("no-such-model")
    assert usage.proxy.rowCount() == 0
    usage.filter.setText("groq")
    target = tmp_path / "usage.csv"
    usage.export_to(str(target))
    qtbot.waitUntil(lambda: "Wrote 1 request(s)" in usage.note.text(), timeout=WAIT)  # written on a worker thread
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and "model" in lines[0] and f"groq/{fake.models[0]}" in lines[1]
    fakes.run(fake.stop())
