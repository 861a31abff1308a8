"""Settings' "Restore tool settings…": after asking, every tool's file Switchboard changed is put
back as it was, through the gateway's set-up door on a worker thread."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from app.windows.confirm import confirm
from app.windows.page import Page
from gateway import ToolPlaces, ToolSetup


def restore_all_tools(page: Page) -> QMessageBox:
    """Settings' "Restore tool settings", after asking: every tool's file Switchboard changed, put back."""

    def restore() -> None:
        setup = ToolSetup(ToolPlaces.for_user(page.context.setup.paths.data_dir))

        def done(restored: list[str]) -> None:
            if restored:
                files = "one file" if len(restored) == 1 else f"{len(restored)} files"
                page.say(f"Every tool Switchboard set up has its own settings back ({files} put back).")
            else:
                page.say("Switchboard has not changed any tool's settings, so there is nothing to put back.")

        page.context.tasks.run_blocking(setup.restore_all, done, lambda m: page.say(m, error=True), page)

    return confirm(
        page,
        "Restore every tool's own settings?",
        "The tools Switchboard set up stop using it and go back to the settings they had before.",
        restore,
        act="Restore",
    )
