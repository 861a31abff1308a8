"""The tray icon: its colour tells the gateway's health, its tooltip the address and today's
tokens, and its menu is built again from the current state each time it opens (as Vorta does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.icons import icon
from app.viewmodels.health import PAUSED, STOPPED, Health
from app.viewmodels.snippets import DEFAULT_URL, snippets

TOOLTIP_PROBLEMS = 3  # more would make a tooltip nobody reads


@dataclass(frozen=True, slots=True)
class TrayActions:
    """What the menu's entries do; the application supplies them."""

    open_window: Callable[[], None]
    copy_address: Callable[[], None]
    connect_tool: Callable[[str], None]  # a tool by name
    pause: Callable[[bool], None]  # True: pause, False: resume
    start_at_login: Callable[[bool], None]
    quit: Callable[[], None]
    update: Callable[[], None]  # show the available release
    welcome: Callable[[], None]  # the first-run welcome, again


@dataclass(frozen=True, slots=True)
class TrayState:
    health: Health
    url: str
    tokens_today: int | None
    start_at_login: bool
    update: str | None = None  # a newer release's version, when there is one


class Tray(QSystemTrayIcon):
    def __init__(self, actions: TrayActions, state: Callable[[], TrayState]) -> None:
        super().__init__()
        self._actions = actions
        self._state = state
        self._shown_state = ""
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.rebuild)
        self.setContextMenu(self.menu)
        self.activated.connect(self._activated)
        self.refresh()
        self.rebuild()

    def refresh(self) -> None:
        """Icon and tooltip from the current state (the icon only when the state changed)."""
        state = self._state()
        if state.health.state != self._shown_state:
            self._shown_state = state.health.state
            self.setIcon(icon(state.health.state))
        self.setToolTip(tooltip(state))

    def rebuild(self) -> None:
        state = self._state()
        a = self._actions
        menu = self.menu
        menu.clear()
        header = menu.addAction(f"Switchboard — {state.health.summary}")
        header.setEnabled(False)
        menu.addSeparator()
        menu.addAction("Open Switchboard", a.open_window)
        menu.addAction("Welcome…", a.welcome)
        copy = menu.addAction("Copy endpoint address", a.copy_address)
        copy.setEnabled(bool(state.url))
        tools = menu.addMenu("Connect a tool")
        for snippet in snippets(state.url or DEFAULT_URL):
            tools.addAction(snippet.tool, partial(a.connect_tool, snippet.tool))
        menu.addSeparator()
        paused = state.health.state == PAUSED
        pause = menu.addAction("Resume the gateway" if paused else "Pause the gateway")
        pause.triggered.connect(lambda: a.pause(not paused))
        pause.setEnabled(paused or state.health.state != STOPPED)
        autostart = QAction("Start at login", menu)
        autostart.setCheckable(True)
        autostart.setChecked(state.start_at_login)
        autostart.toggled.connect(a.start_at_login)
        menu.addAction(autostart)
        if state.update is not None:
            menu.addAction(f"Update to Switchboard {state.update}…", a.update)
        menu.addSeparator()
        menu.addAction("Quit Switchboard", a.quit)

    def action(self, text: str) -> QAction:
        """The menu entry with this text (for tests and keyboard users' scripts)."""
        for act in [*self.menu.actions(), *(x for m in self.menu.findChildren(QMenu) for x in m.actions())]:
            if act.text() == text:
                return act
        raise KeyError(text)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self._actions.open_window()


def tooltip(state: TrayState) -> str:
    lines = [f"Switchboard: {state.health.summary}"]
    shown = state.health.problems[:TOOLTIP_PROBLEMS]  # in the words the overview and the pages use
    lines.extend(f"• {problem}" for problem in shown)
    if len(state.health.problems) > len(shown):
        lines.append(f"• and {len(state.health.problems) - len(shown)} more")
    if state.url:
        lines.append(state.url)
    if state.tokens_today is not None:
        lines.append(f"{state.tokens_today:,} tokens today")
    return "\n".join(lines)
