"""Settings' "Updates" box: the daily check's switch, what the last check found, the release
notes of a newer release, and the button that downloads, verifies and installs it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from app.updater import Updater
from app.windows.page import Edited
from gateway import Change

ChangeConfig = Callable[[Sequence[Change], Callable[[Edited], None]], None]


class UpdatesBox(QGroupBox):
    def __init__(self, updater: Updater, change_config: ChangeConfig) -> None:
        super().__init__("Updates")
        self._updater = updater
        self._change_config = change_config
        layout = QVBoxLayout(self)
        self.enabled = QCheckBox("Check for a new release once a day")
        self.enabled.toggled.connect(self._switch)
        layout.addWidget(self.enabled)
        self.state = QLabel()
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        self.notes = QPlainTextEdit()
        self.notes.setReadOnly(True)
        self.notes.setAccessibleName("Release notes")
        self.notes.setMaximumHeight(110)
        self.notes.hide()
        layout.addWidget(self.notes)
        buttons = QHBoxLayout()
        self.check_button = QPushButton("Check now")
        self.check_button.clicked.connect(lambda: updater.check(asked=True))
        buttons.addWidget(self.check_button)
        self.install_button = QPushButton("Download and install")
        self.install_button.setToolTip(
            "Installs once no request is being answered; Switchboard restarts into the new version"
        )
        self.install_button.clicked.connect(updater.download_and_install)
        buttons.addWidget(self.install_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        updater.changed.connect(self.show_state)
        self.show_state()

    def read(self, config: dict[str, Any]) -> None:
        """The switch as the settings file has it (on unless it says otherwise)."""
        self.enabled.blockSignals(True)
        self.enabled.setChecked((config.get("app") or {}).get("check_updates", True) is not False)
        self.enabled.blockSignals(False)

    def show_state(self) -> None:
        updater = self._updater
        release = updater.available
        self.state.setText(updater.said or "Not checked yet in this session.")
        self.notes.setVisible(release is not None)
        if release is not None:
            self.notes.setPlainText(release.notes or "(This release has no notes.)")
        self.install_button.setVisible(release is not None)
        self.install_button.setEnabled(not updater.busy)
        self.check_button.setEnabled(not updater.busy)

    def _switch(self, on: bool) -> None:
        self._change_config([("app", "check_updates", None if on else False)], lambda _: None)
