"""The money view on the Usage page, from ledger rows as the gateway keeps them: what was spent,
what subscriptions and local models saved (list price less cost), the spend per model, provider,
client and tool, and dollars per hour stacked by provider."""

from __future__ import annotations

import time

from app_fixtures import MakeApp
from pytestqt.qtbot import QtBot

from app.viewmodels.money import dollars, money_of, money_words
from app.windows.page import rows_height
from app.windows.usage import UsagePage, when
from gateway.store import db, ledger

WAIT = 15_000


def _row(
    provider: str, model: str, caller: str, tool: str, cost: float, list_cost: float, *, unpriced: bool = False
) -> ledger.LedgerRow:
    now = time.time()
    return ledger.LedgerRow(
        now - 60, f"r-{provider}-{model}-{tool}", "request", caller, "openai", model, provider, "k", model,
        1000, 500, 0, 0, False, 200, "", 120.0, None, 1, cost, list_cost, unpriced, tool,
    )  # fmt: skip


def test_the_usage_page_shows_spend_and_what_subscriptions_and_local_models_saved(
    qtbot: QtBot, make_app: MakeApp
) -> None:
    app = make_app()
    page = app.window.go(UsagePage.title)
    assert isinstance(page, UsagePage)
    state = page.context.host.control.state if page.context.host.control is not None else None
    assert state is not None
    conn = db.connect(page.context.setup.paths.data_dir / db.FILE_NAME)
    ledger.write(
        conn,
        [
            _row("groq", "llama-big", "laptop", "claude-code", 0.5, 0.5),
            _row("groq", "llama-big", "laptop", "claude-code", 0.25, 0.25),
            _row("codex", "gpt-5", "desk", "codex", 0.0, 1.25),  # a subscription: paid for already
            _row("ollama", "qwen3", "desk", "aider", 0.0, 0.0075),  # local: what the tokens would have cost
            _row("mystery", "odd-model", "desk", "curl", 0.0, 0.0, unpriced=True),
        ],
    )
    conn.commit()
    conn.close()
    page.shown()
    spent = "Spent $0.75 in this period. Saved by subscriptions and local models: $1.26."
    qtbot.waitUntil(lambda: page.money.text().startswith(spent), timeout=WAIT)
    assert page.money.text().endswith("Not counted: 1 request that used a model with no known price.")

    by_model = {
        page.groups.text(n, 0): (page.groups.text(n, 5), page.groups.text(n, 6)) for n in range(page.groups.rowCount())
    }
    assert by_model["llama-big"] == ("$0.75", "$0") and by_model["gpt-5"] == ("$0", "$1.25")
    assert by_model["qwen3"] == ("$0", "$0.0075")
    page.group.setCurrentText("By tool")
    qtbot.waitUntil(lambda: "codex" in [page.groups.text(n, 0) for n in range(page.groups.rowCount())], timeout=WAIT)
    tools = {page.groups.text(n, 0): page.groups.text(n, 5) for n in range(page.groups.rowCount())}
    assert tools == {"claude-code": "$0.75", "codex": "$0", "aider": "$0", "curl": "$0"}
    page.group.setCurrentText("By client")
    qtbot.waitUntil(lambda: "laptop" in [page.groups.text(n, 0) for n in range(page.groups.rowCount())], timeout=WAIT)

    page.measure.setCurrentText("Spend")
    qtbot.waitUntil(lambda: page.chart.money, timeout=WAIT)
    assert page.chart_title.text() == "Dollars per hour, by provider"
    assert {name: sum(values) for name, values in page.chart.series.items()} == {"groq": 0.75}
    costs = [page.recent.text(n, 6) for n in range(page.recent.rowCount())]
    assert sorted(costs) == ["$0", "$0", "$0", "$0.25", "$0.50"]


def test_dollars_read_as_people_write_them() -> None:
    assert [dollars(v) for v in (0, 0.0042, 0.5, 1234.5, -2)] == ["$0", "$0.0042", "$0.50", "$1,234.50", "−$2.00"]
    assert money_words(money_of([])) == "Spent $0 in this period. Saved by subscriptions and local models: $0."


def test_who_made_the_requests_is_said_by_the_keys_label_not_its_id_in_a_table_as_tall_as_its_rows(
    qtbot: QtBot, make_app: MakeApp
) -> None:
    app = make_app()
    made = app.host.call(lambda c: c.create_key("build server", "standard", {}, "test")).result(10)
    page = app.window.go(UsagePage.title)
    assert isinstance(page, UsagePage)
    qtbot.waitUntil(lambda: page.money.text() != "", timeout=WAIT)  # no requests: no empty tables
    assert page.groups_view.isHidden() and page.recent_view.isHidden() and page.recent_tools.isHidden()
    conn = db.connect(page.context.setup.paths.data_dir / db.FILE_NAME)
    ledger.write(
        conn,
        [
            _row("openai", "gpt-5", made["id"], "codex", 0.5, 0.5),
            _row("openai", "gpt-5-mini", "local", "aider", 0.25, 0.25),  # from this computer, with no key
        ],
    )
    conn.commit()
    conn.close()
    page.group.setCurrentText("By client")
    used_by = [column.title for column in page.recent.columns].index("Used by")
    page.shown()
    qtbot.waitUntil(lambda: page.recent.rowCount() == 2, timeout=WAIT)
    assert not page.recent_view.isHidden() and not page.groups_view.isHidden()
    assert sorted(page.recent.text(n, used_by) for n in range(2)) == ["build server", "this computer"]
    qtbot.waitUntil(lambda: page.groups.rowCount() == 2 and page.groups.text(0, 0) != made["id"], timeout=WAIT)
    assert sorted(page.groups.text(n, 0) for n in range(2)) == ["build server", "this computer"]
    assert page.groups_view.maximumHeight() == rows_height(page.groups_view, 2)  # its two rows whole, no empty box


def test_a_requests_time_is_the_clock_alone_today_and_the_day_too_before() -> None:
    noon = time.mktime((2026, 12, 6, 12, 0, 0, 0, 0, -1))
    assert when(noon - 3600, now=noon) == "11:00:00"
    assert when(noon - 86400, now=noon) == "12-05 12:00"
