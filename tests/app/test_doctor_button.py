"""The Overview's "Check everything": the doctor's findings (gateway.admin.doctor) through the running
gateway's admin door, one line each in plain words — a working provider, a refused key, a server that
cannot be reached, an alias to a model nobody lists, the clock — with no ids or router words."""

from __future__ import annotations

from app_fixtures import KEY, LoopThread, MakeApp
from conftest import free_ports
from fakes.openai_upstream import FakeOpenAI
from pytestqt.qtbot import QtBot

from app.windows.overview import OverviewPage

WAIT = 20_000


def _table(pid: str, name: str, url: str) -> str:
    return (
        f'[providers.{pid}]\nname = "{name}"\nkind = "openai-compatible"\nbase_url = "{url}"\n'
        f'api_key_env = "{pid.upper()}_KEY"\n'
    )


def test_check_everything_lists_each_finding_in_words(qtbot: QtBot, make_app: MakeApp, fakes: LoopThread) -> None:
    fake = fakes.run(FakeOpenAI(key=KEY).start())
    (closed,) = free_ports(1)
    config = (
        _table("works", "Works Inc", fake.url)
        + _table("refused", "Refusing Co", fake.url)
        + _table("gone", "Gone Ltd", f"http://127.0.0.1:{closed}/v1")
        + '\n[aliases]\nretired = "works/gpt-gone-away"\n'
    )
    app = make_app({"WORKS_KEY": KEY, "REFUSED_KEY": "sk-revoked-0000000001", "GONE_KEY": KEY}, config)
    app.window.show()
    overview = app.window.go(OverviewPage.title)
    assert isinstance(overview, OverviewPage)
    assert overview.findings.isHidden()
    overview.check.click()
    qtbot.waitUntil(lambda: not overview.findings.isHidden(), timeout=WAIT)
    lines = overview.findings.lines()  # a line each, wrapped (Lines), as the Problems above them
    assert f"✓ Works Inc answers and lists {len(fake.models)} models." in lines
    assert "✗ Refusing Co refuses its key. Store a new key for it." in lines
    assert any(line.startswith("✗ Gone Ltd cannot be asked for its models") for line in lines)
    assert any(line.startswith('✗ "retired" leads nowhere') and "gpt-gone-away" in line for line in lines)
    assert any("port" in line for line in lines) and any("Keys and sign-ins are kept" in line for line in lines)
    assert "✓ This computer's clock agrees with 127.0.0.1's." in lines  # beside the provider's Date header
    assert not any(w in " ".join(lines) for w in ("credential_refused", "unreachable", "--", "python -m"))
    assert overview.check.isEnabled() and overview.check.text() == "Check everything"
    fakes.run(fake.stop())
