"""The charts: the ledger's tokens by provider and hour, stacked per bucket (the smallest summed as
"others"); a quota window's burn-down from its start to its reset, with the gateway's forecast; and
the widgets drawing them."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from PySide6.QtCore import QSize
from pytestqt.qtbot import QtBot

from app.viewmodels.charts import MOST_SERIES, OTHERS, burn_down, stacked
from app.windows.widgets.bar_chart import BarChart, nice, short
from app.windows.widgets.meter import Meter
from gateway import NamedSpanTotals, QuotaReading
from gateway.store import db, ledger

HOUR = 3600


def _row(ts: float, provider: str, prompt: int, completion: int) -> ledger.LedgerRow:
    return ledger.LedgerRow(
        ts, f"r{ts}{provider}", "request", "local", "openai", "m", provider, "k", "m", prompt, completion,
        0, 0, False, 200, "", 10.0, None, 1,
    )  # fmt: skip


def test_the_ledger_gives_each_providers_tokens_by_hour(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "state.db")
    db.migrate(conn)
    base = 1_000 * HOUR
    ledger.write(
        conn, [_row(base + 10, "groq", 10, 5), _row(base + 20, "groq", 1, 1), _row(base + HOUR, "mistral", 7, 0)]
    )
    conn.commit()
    rows = ledger.timeseries_by(conn, "by-provider", base, base + 2 * HOUR)
    found = [(r["start_s"], r["name"], r["total_tokens"], r["requests"]) for r in rows]
    assert found == [(base, "groq", 17, 2), (base + HOUR, "mistral", 7, 1)]
    days = ledger.timeseries_by(conn, "by-provider", base, base + 2 * HOUR, "day")
    assert {r["name"]: r["start_s"] % 86400 for r in days} == {"groq": 0, "mistral": 0}
    conn.close()


def _span(start: int, name: str, tokens: int) -> NamedSpanTotals:
    return NamedSpanTotals(
        name=name, start_s=start, requests=1, successful=1, prompt_tokens=tokens, completion_tokens=0,
        total_tokens=tokens, cached_tokens=0, reasoning_tokens=0, estimated=0, mean_latency_ms=1.0,
        cost=0.0, list_cost=0.0, unpriced=0,
    )  # fmt: skip


def test_stacks_put_the_biggest_first_and_sum_the_smallest_as_others() -> None:
    starts = [0.0, float(HOUR)]
    rows = [_span(0, "a", 5), _span(HOUR, "b", 50), _span(HOUR, "a", 1), _span(7 * HOUR, "late", 9), _span(0, "z", 0)]
    assert stacked(rows, starts) == {"b": [0.0, 50.0], "a": [5.0, 1.0]}
    many = [_span(0, f"p{n}", 100 - n) for n in range(MOST_SERIES + 2)]
    series = stacked(many, starts)
    assert len(series) == MOST_SERIES and next(iter(series)) == "p0"
    assert series[OTHERS] == [float(sum(100 - n for n in range(MOST_SERIES - 1, MOST_SERIES + 2))), 0.0]


def _window(used: float, taken_at: float, exhausted_at: float | None = None) -> QuotaReading:
    reading = {  # what a burn-down reads, and the meters
        "label": "codex:ada", "provider": "codex", "window": "primary", "window_seconds": 5 * HOUR,
        "used_percent": used, "unlimited": False, "entitlement": None, "remaining": None, "resets_at": 10 * HOUR,
        "resets_in": None, "exhausted_at": exhausted_at, "taken_at": taken_at, "reset": False,
    }  # fmt: skip
    return cast(QuotaReading, reading)


def test_a_burn_down_runs_from_the_windows_start_to_its_reset() -> None:
    start = 5 * HOUR
    steady = burn_down(_window(20.0, start + HOUR), [(start + HOUR / 2, 10.0)])
    assert steady is not None
    assert steady.seen == ((0.0, 100.0), (0.1, 90.0), (0.2, 80.0))
    assert steady.projected == (1.0, 0.0) and not steady.runs_out  # 20 % in a fifth: none left at the reset
    forecast = burn_down(_window(50.0, start + HOUR, exhausted_at=start + 2 * HOUR))
    assert forecast is not None and forecast.runs_out and forecast.projected == (0.4, 0.0)
    earlier = burn_down(_window(50.0, start + HOUR), [(start - HOUR, 90.0)])  # a sample of the last period
    assert earlier is not None and earlier.seen == ((0.0, 100.0), (0.2, 50.0))
    unknown = _window(10.0, start)
    unknown["window_seconds"] = None
    assert burn_down(unknown) is None


def test_the_widgets_draw_stacks_and_a_burn_down(qtbot: QtBot) -> None:
    chart = BarChart()
    qtbot.addWidget(chart)
    chart.resize(QSize(500, 200))
    chart.set_stacks(["10:00", "11:00"], {"groq": [5.0, 0.0], "mistral": [1.0, 2.0]})
    assert chart.bars == [("10:00", 6.0), ("11:00", 2.0)]
    image = chart.grab().toImage()
    assert not image.isNull()
    chart.set_bars([("a", 3.0)])
    assert chart.bars == [("a", 3.0)]
    assert [nice(v) for v in (0.0, 3.0, 348.0, 1000.0, 1001.0, 2200.0)] == [0.0, 5.0, 500.0, 1000.0, 2000.0, 2500.0]
    assert short(1500.0) == "1.5k" and short(2_000_000.0) == "2M" and short(12.0) == "12"

    meter = Meter("codex:ada — 5-hour window")
    qtbot.addWidget(meter)
    meter.show()
    meter.set_window(_window(20.0, 6 * HOUR))
    meter.set_window(_window(30.0, 7 * HOUR))
    assert meter.burn.isVisible() and meter.burn.data is not None
    assert [left for _, left in meter.burn.data.seen] == [100.0, 80.0, 70.0]
    meter.grab()
    unlimited = _window(0.0, 6 * HOUR)
    unlimited["unlimited"] = True
    meter.set_window(unlimited)
    assert not meter.burn.isVisible()
