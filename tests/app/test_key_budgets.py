"""A new client key from the Settings page with dollar budgets: typed as a person would ("$2.50"),
a budget that is not an amount is refused in words with the dialog kept open, and the key the
gateway made has the budgets. An existing key's budgets changed from its row, audited, its other
limits kept."""

from __future__ import annotations

from app_fixtures import MakeApp
from pytestqt.qtbot import QtBot
from status_documents import access, client_key, status_document

from app.viewmodels.meters import meters
from app.windows.key_dialog import ChangeBudgetDialog, KeyDialog, NewKeyDialog, budget
from app.windows.settings import SettingsPage
from gateway.pipeline.limits import LimitUsage

WAIT = 15_000


def test_amounts_are_read_as_people_type_them() -> None:
    assert (budget(""), budget(" 5 "), budget("$2.50"), budget("1,000")) == (None, 5.0, 2.5, 1000.0)
    for bad in ("five", "-1", "nan", "inf", "2.5.0", "2e9"):  # 2e9: more than the gateway takes
        try:
            budget(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was taken as an amount")


def test_a_key_is_made_with_a_budget_per_day_and_per_month(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    app.window.show()
    page = app.window.go(SettingsPage.title)
    assert isinstance(page, SettingsPage)
    page.create_key()
    dialog = page.findChild(NewKeyDialog)
    assert isinstance(dialog, NewKeyDialog) and dialog.isVisible()
    dialog.label.setText("build server")
    dialog.budgets["dollars_per_day"].setText("$2.50")
    dialog.budgets["dollars_per_month"].setText("forty")
    dialog.done_typing()
    assert dialog.isVisible() and not dialog.error.isHidden()
    assert dialog.error.text() == (
        "The budget per month is not an amount of dollars: write it like 5 or 2.50, or leave it empty."
    )
    dialog.budgets["dollars_per_month"].setText("40")
    dialog.done_typing()
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: page.findChild(KeyDialog) is not None, timeout=WAIT)
    control = app.host.control
    assert control is not None
    listing = control.keys()  # the gateway's client keys (a method of Control, not a mapping's)
    (made,) = [k for k in listing if k["label"] == "build server"]
    assert made["limits"] == {"dollars_per_day": 2.5, "dollars_per_month": 40.0}
    qtbot.waitUntil(lambda: [r["label"] for r in page.keys_model.rows] == ["build server"], timeout=WAIT)
    budget_column = [column.title for column in page.keys_model.columns].index("Budget")
    assert page.keys_model.text(0, budget_column) == "$2.50 a day, $40.00 a month"


def test_budgets_are_optional(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    page = app.window.go(SettingsPage.title)
    assert isinstance(page, SettingsPage)
    page.create_key()
    dialog = page.findChild(NewKeyDialog)
    assert isinstance(dialog, NewKeyDialog)
    dialog.done_typing()
    assert dialog.error.text() == "Give the key a label: who or what will use it."
    dialog.label.setText("laptop")
    dialog.done_typing()
    qtbot.waitUntil(lambda: page.findChild(KeyDialog) is not None, timeout=WAIT)
    control = app.host.control
    assert control is not None
    listing = control.keys()
    assert [k["limits"] for k in listing if k["label"] == "laptop"] == [{}]


def test_an_existing_keys_budget_is_changed_from_its_row(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    app.window.show()
    page = app.window.go(SettingsPage.title)
    assert isinstance(page, SettingsPage)
    limits = {"requests_per_minute": 60, "dollars_per_day": 2.5}
    made = app.host.call(lambda c: c.create_key("build server", "standard", limits, "test")).result(10)
    page.ask(lambda control: control.keys(), page._keys)
    qtbot.waitUntil(lambda: [r["label"] for r in page.keys_model.rows] == ["build server"], timeout=WAIT)

    page.change_budget()  # none chosen yet
    assert page.note.text() == "Choose a key in the list first." and page.findChild(ChangeBudgetDialog) is None
    page.keys_view.selectRow(0)
    page.keys_view.doubleClicked.emit(page.keys_model.index(0, 0))
    dialog = page.findChild(ChangeBudgetDialog)
    assert isinstance(dialog, ChangeBudgetDialog) and dialog.isVisible()
    typed = {name: field.text() for name, field in dialog.budgets.items()}
    assert typed == {"dollars_per_day": "2.50", "dollars_per_month": ""}  # the budgets as they are
    dialog.budgets["dollars_per_day"].setText("")
    dialog.budgets["dollars_per_month"].setText("lots")
    dialog.done_typing()
    assert dialog.isVisible() and dialog.error.text().startswith("The budget per month is not an amount of dollars")
    dialog.budgets["dollars_per_month"].setText("$60")
    dialog.done_typing()
    assert not dialog.isVisible()

    qtbot.waitUntil(
        lambda: page.note.text() == "build server has a budget of $60.00 a month from now on.", timeout=WAIT
    )
    budget_column = [column.title for column in page.keys_model.columns].index("Budget")
    assert page.keys_model.text(0, budget_column) == "$60.00 a month"
    (key,) = app.host.call(lambda c: c.keys()).result(10)
    assert key["limits"] == {"requests_per_minute": 60, "dollars_per_month": 60.0}  # its other limit kept
    events = app.host.call(lambda c: c.audit_events(0, 1000)).result(10)
    (changed,) = [e for e in events if e["action"] == "key.limits_changed"]
    assert changed["actor"] == "app" and changed["payload"]["key"] == made["id"]


def test_a_keys_budget_meters_are_in_dollars() -> None:
    usage: dict[str, LimitUsage] = {
        "requests_per_minute": {"used": 3, "limit": 60},
        "dollars_per_day": {"used": 1.534, "limit": 5.0},
        "dollars_per_month": {"used": 1.534, "limit": None},  # no budget: no meter
    }
    shown = meters(status_document(access=access([client_key("k1", "bot", usage)])))
    assert [(m.title, m.text) for m in shown] == [
        ("Client key bot — requests per minute", "3 of 60"),
        ("Client key bot — budget per day", "$1.53 of $5.00"),
    ]
