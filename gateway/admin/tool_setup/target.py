"""What a tool is pointed at, and how each tool is described: pure data and pure text edits, so
each tool's module holds only what is true of that tool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.admin.tool_setup.places import Places
from gateway.errors import Fixable

PLACEHOLDER_TOKEN = "switchboard"  # tools insist on some key; a gateway that needs none ignores it
DEFAULT_MODEL = "auto"


class ToolSetupError(Fixable):
    """A tool's file could not be changed or put back; ``message`` says why in plain words."""


@dataclass(frozen=True, slots=True)
class Target:
    url: str  # the gateway's root address, e.g. http://127.0.0.1:11488
    key: str | None = None  # a client key, where the gateway asks callers for one
    model: str = DEFAULT_MODEL

    @property
    def v1(self) -> str:
        return f"{self.url.rstrip('/')}/v1"

    @property
    def token(self) -> str:
        return self.key or PLACEHOLDER_TOKEN


@dataclass(frozen=True, slots=True)
class Tool:
    id: str  # as the command line names it: claude-code, codex, vscode, continue, opencode
    name: str  # as people know it
    programs: tuple[str, ...]  # any of these on PATH: installed
    folder: Callable[[Places], Path]  # its settings folder; there: installed (or used once)
    file_name: str  # the file in that folder set-up changes
    configure: Callable[[str, Target], str]  # the file's text ("" when none) → pointed at the target
    points_at: Callable[[str, str], bool]  # the file's text, the gateway's address → set up for it
    uses_model: bool = True  # VS Code's model is chosen in its own picker

    def file(self, places: Places) -> Path:
        return self.folder(places) / self.file_name
