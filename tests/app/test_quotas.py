"""The quota meters and their notifications, from windows as the gateway reads them out: a window
past its reset shows as reset and warns of nothing (the stale 98 % notice after a restart), a
forecast never lies in the past, amounts are whole when whole, and a revoked client key's meters
go — from the view model and from the page. A window that reset draws no burn-down of the period
that ended."""

from __future__ import annotations

from app_fixtures import MakeApp
from pytestqt.qtbot import QtBot
from status_documents import NOW, access, client_key, status_document

from app.viewmodels.alerts import Alerts
from app.viewmodels.charts import burn_down
from app.viewmodels.meters import meters
from app.windows.quotas import QuotasPage
from app.windows.widgets.meter import Meter
from gateway import ClientKeyStatus, QuotaReading
from gateway.providers.quota import QuotaWindow
from gateway.routing.quota import QuotaRecord

WAIT = 15_000


def _reading(used: float, resets_at: float, *, now: float = NOW, first_at: float | None = None) -> QuotaReading:
    """A Copilot premium window of 500 requests, read at ``now`` as the gateway reads it out."""
    window = QuotaWindow("premium_interactions", used, resets_at, None, 500.0, 500.0 * (1 - used / 100))
    taken = NOW - 3600
    return QuotaRecord("copilot:ada", "copilot", window, taken, used / 2, first_at or taken - 3600).public(now)


def test_a_window_past_its_reset_shows_as_reset() -> None:
    (meter,) = meters(status_document(quota=[_reading(98.0, NOW - 60)]))
    assert meter.used_percent == 0.0 and meter.text == "Reset (500 of 500 left)"
    assert meter.detail.startswith("It reset ") and "new figures come with the next request" in meter.detail
    assert "0 s" not in meter.detail
    long = QuotaWindow("primary", 98.0, NOW - 60, 18000)
    assert burn_down(QuotaRecord("codex:ada", "codex", long, NOW - 3600, 50.0, NOW - 7200).public(NOW)) is None
    assert burn_down(QuotaRecord("codex:ada", "codex", long, NOW - 3600, 50.0, NOW - 7200).public(NOW - 120))


def test_a_live_window_whole_amounts_and_a_forecast_in_the_future_only() -> None:
    (live,) = meters(status_document(quota=[_reading(60.0, NOW + 4 * 3600)]))
    assert live.text == "60 % used (200 of 500 left)"  # not "200.0 of 500.0"
    assert live.detail.startswith("Resets in 4 h 0 min; at this pace runs out ")
    (late,) = meters(status_document(quota=[_reading(60.0, NOW + 4 * 3600, now=NOW + 3 * 3600)]))
    assert "runs out" not in late.detail  # the forecast (NOW + 2 h) lies in the past by then
    assert late.detail == "Resets in 60 min"


def _key(key_id: str, label: str, used: float, limit: float, revoked_at: float | None = None) -> ClientKeyStatus:
    # Floats, as limits given over HTTP as JSON numbers may arrive: shown whole all the same.
    counts = {"requests_per_day": {"used": used, "limit": limit}}
    key = client_key(key_id, label, counts)  # type: ignore[arg-type]
    key["revoked_at"] = revoked_at
    return key


def test_client_key_meters_whole_amounts_and_none_for_a_revoked_key() -> None:
    keys = [_key("k1", "laptop", 0.0, 500.0), _key("k2", "old phone", 3, 500, revoked_at=NOW)]
    found = meters(status_document(access=access(keys)))
    assert [(m.title, m.text) for m in found] == [("Client key laptop — requests per day", "0 of 500")]


def test_no_notice_for_a_window_that_already_reset_even_the_first_status_after_a_restart() -> None:
    alerts = Alerts()  # as after a restart: nothing said yet
    assert alerts.notices(status_document(quota=[_reading(98.0, NOW - 60)])) == []
    (notice,) = alerts.notices(status_document(quota=[_reading(98.0, NOW + 600)]))
    assert (
        notice.urgent
        and notice.text == "GitHub Copilot · ada has used 98 % of its premium requests; it resets in 10 min."
    )


def test_the_page_drops_the_meters_of_a_key_once_it_is_revoked(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = app.window.go(QuotasPage.title)
    assert isinstance(page, QuotasPage)
    control = app.host.control
    assert control is not None
    created = app.host.submit(lambda: control.create_key("laptop", "free", {}, "test")).result(10)
    app.refresh()
    qtbot.waitUntil(lambda: len(page.meters) == 4, timeout=WAIT)  # its four limits
    assert page.meters[f"key:{created['id']}/requests_per_minute"].bar.format() == "0 of 20"
    app.host.submit(lambda: control.revoke_key(created["id"], "test")).result(10)
    app.refresh()
    qtbot.waitUntil(lambda: not page.meters, timeout=WAIT)
    assert page.empty.isVisible()


def test_a_meter_with_no_line_of_detail_has_no_blank_line(qtbot: QtBot) -> None:
    meter = Meter("Client key bot — budget per day")
    qtbot.addWidget(meter)
    meter.set_value(30.6, "$1.53 of $5.00", "")
    assert meter.detail.isHidden()
    meter.set_value(62.0, "62 % used", "Resets in 2 h")
    assert not meter.detail.isHidden() and meter.detail.text() == "Resets in 2 h"
