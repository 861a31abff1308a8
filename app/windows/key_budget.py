"""A client key's dollar budgets changed from the Settings page's list: asked in a dialog with the
budgets as they are, set through the admin door (audited as the app's change), the key's tier and
its other limits kept."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QTableView

from app.viewmodels.table import RowsModel
from app.windows.key_dialog import BUDGET_FIELDS, Budgets, ChangeBudgetDialog, budgets_text
from app.windows.page import ACTOR, Page
from gateway import ClientKey, Control

BUDGET_NAMES = frozenset(name for name, _ in BUDGET_FIELDS)


def change_budget(
    page: Page, view: QTableView, model: RowsModel[ClientKey], show_keys: Callable[[list[ClientKey]], None]
) -> None:
    """The chosen key's budgets asked for and set; ``show_keys`` gets the keys as they are then."""
    rows = view.selectionModel().selectedRows()
    if not rows:
        page.say("Choose a key in the list first.", error=True)
        return
    key = model.rows[rows[0].row()]
    if key["revoked_at"]:
        page.say(f"{key['label']} is revoked: it is refused whatever its budget.")
        return

    def change(budgets: Budgets) -> None:
        others = {name: value for name, value in key["limits"].items() if name not in BUDGET_NAMES}

        async def set_limits(control: Control) -> list[ClientKey]:
            await control.set_key_limits(key["id"], key["tier"], others | budgets, ACTOR)
            return control.keys()

        def changed(keys: list[ClientKey]) -> None:
            show_keys(keys)
            now = f"a budget of {budgets_text(budgets)}" if budgets else "no budget"
            page.say(f"{key['label']} has {now} from now on.")

        page.ask(set_limits, changed)

    ChangeBudgetDialog(key["label"], key["limits"], change, page).open()
