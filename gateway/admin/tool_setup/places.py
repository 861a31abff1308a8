"""Where each tool keeps its settings on this computer, from injected facts (the home folder, the
environment, how a program is found on PATH, the OS), so tests run against a temporary home."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


def _on_path(env: Mapping[str, str]) -> Callable[[str], str | None]:
    return lambda name: shutil.which(name, path=env.get("PATH"))


@dataclass(frozen=True, slots=True)
class Places:
    home: Path  # the user's home folder
    state: Path  # Switchboard's data folder: backups and their manifest live under it
    env: Mapping[str, str] = field(default_factory=dict)
    which: Callable[[str], str | None] | None = None  # finds a program; default: on env's PATH
    platform: str = sys.platform

    @classmethod
    def for_user(cls, state: Path) -> Places:
        """This user's: their home folder, this process's environment and PATH."""
        return cls(home=Path.home(), state=state, env=dict(os.environ))

    def find(self, program: str) -> str | None:
        return (self.which or _on_path(self.env))(program)

    @property
    def backups(self) -> Path:
        return self.state / "tool-settings"

    def _xdg_config(self) -> Path:
        return Path(self.env["XDG_CONFIG_HOME"]) if self.env.get("XDG_CONFIG_HOME") else self.home / ".config"

    def claude_dir(self) -> Path:
        """Claude Code reads CLAUDE_CONFIG_DIR instead of ~/.claude where it is set."""
        chosen = self.env.get("CLAUDE_CONFIG_DIR")
        return Path(chosen) if chosen else self.home / ".claude"

    def codex_home(self) -> Path:
        chosen = self.env.get("CODEX_HOME")
        return Path(chosen) if chosen else self.home / ".codex"

    def vscode_user(self) -> Path:
        """VS Code's user settings folder, where each OS puts it."""
        if self.platform == "darwin":
            return self.home / "Library" / "Application Support" / "Code" / "User"
        if self.platform == "win32":
            appdata = self.env.get("APPDATA")
            return (Path(appdata) if appdata else self.home / "AppData" / "Roaming") / "Code" / "User"
        return self._xdg_config() / "Code" / "User"

    def continue_dir(self) -> Path:
        return self.home / ".continue"

    def opencode_dir(self) -> Path:
        return self._xdg_config() / "opencode"
