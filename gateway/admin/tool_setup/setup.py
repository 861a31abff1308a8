"""Set a tool up, restore it, restore them all: the one implementation the command line and the
app share. Blocking file work: the app runs it on a worker thread.

Each tool's module edits plain text; how the user's file is written besides — a byte-order mark,
Windows line ends — is set aside before and put back after, so only the lines set-up means to
change differ. A file that gets a client key is left readable by its owner only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from gateway.admin.tool_setup.backups import Backups, ManifestUnreadable, write_atomic
from gateway.admin.tool_setup.catalog import BY_ID, TOOLS
from gateway.admin.tool_setup.places import Places
from gateway.admin.tool_setup.target import Target, Tool, ToolSetupError
from gateway.errors import os_reason

BOM = "\ufeff"
UNREADABLE_RECORD = "Switchboard's record of the tools' files it changed cannot be read, so nothing was changed."


@dataclass(frozen=True, slots=True)
class _Form:
    """How a file is written besides its text: a byte-order mark first, Windows line ends."""

    bom: bool = False
    crlf: bool = False

    @classmethod
    def of(cls, raw: str) -> tuple[str, _Form]:
        """``raw`` as plain text (no mark, lines ended by ``\\n``), and its form."""
        bom = raw.startswith(BOM)
        text = raw.removeprefix(BOM)
        crlf = "\r\n" in text
        return (text.replace("\r\n", "\n") if crlf else text), cls(bom, crlf)

    def dress(self, text: str) -> str:
        return (BOM if self.bom else "") + (text.replace("\n", "\r\n") if self.crlf else text)


class ToolState(TypedDict):
    id: str
    name: str
    installed: bool  # its program is on PATH, or its settings folder exists
    connected: bool  # its settings point at the gateway's address given
    changed: bool  # Switchboard changed its file and keeps the user's own copy: Restore can put it back
    file: str  # the settings file set-up changes
    uses_model: bool


class ToolSetup:
    def __init__(self, places: Places) -> None:
        self.places = places
        self.backups = Backups(places.backups)

    def tool(self, tool_id: str) -> Tool:
        if tool_id not in BY_ID:
            raise ToolSetupError(f"Switchboard cannot set up {tool_id[:40]!r}; it knows {', '.join(BY_ID)}.")
        return BY_ID[tool_id]

    def _read(self, tool: Tool) -> tuple[str, _Form]:
        path = tool.file(self.places)
        try:
            return _Form.of(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return "", _Form()
        except UnicodeDecodeError as exc:
            raise ToolSetupError(f"{tool.name}'s settings file {path} is not text, so it was left as it is.") from exc
        except OSError as exc:
            raise ToolSetupError(f"{tool.name}'s settings file {path} could not be read: {os_reason(exc)}.") from exc

    def state(self, tool_id: str, url: str) -> ToolState:
        tool = self.tool(tool_id)
        try:
            connected = tool.points_at(self._read(tool)[0], url)
        except (ValueError, ToolSetupError):  # a file the user broke is not ours to judge here
            connected = False
        try:
            changed = bool(self.backups.kept(tool.id))
        except ManifestUnreadable:
            changed = False
        return ToolState(
            id=tool.id,
            name=tool.name,
            installed=any(self.places.find(p) for p in tool.programs) or tool.folder(self.places).is_dir(),
            connected=connected,
            changed=changed,
            file=str(tool.file(self.places)),
            uses_model=tool.uses_model,
        )

    def states(self, url: str) -> list[ToolState]:
        return [self.state(tool.id, url) for tool in TOOLS]

    def set_up(self, tool_id: str, target: Target) -> ToolState:
        """Point the tool at ``target``, the user's file kept first; a file that cannot be read as
        its format is left untouched."""
        tool = self.tool(tool_id)
        path = tool.file(self.places)
        text, form = self._read(tool)
        try:
            changed = form.dress(tool.configure(text, target)).encode("utf-8")
        except ValueError as exc:
            raise ToolSetupError(
                f"{tool.name}'s settings file {path} could not be read ({exc}), so it was left as it is."
            ) from exc
        try:
            self.backups.keep(tool.id, path)
            write_atomic(path, changed, _mode(path, private=target.key is not None))
            self.backups.wrote(path, changed)
        except ManifestUnreadable as exc:
            raise ToolSetupError(UNREADABLE_RECORD, detail=str(exc)) from exc
        except OSError as exc:
            raise ToolSetupError(f"{tool.name}'s settings file {path} could not be written: {os_reason(exc)}.") from exc
        return self.state(tool.id, target.url)

    def restore(self, tool_id: str, url: str) -> ToolState:
        tool = self.tool(tool_id)
        try:
            self.backups.restore(tool.id)
        except ManifestUnreadable as exc:
            raise ToolSetupError(UNREADABLE_RECORD, detail=str(exc)) from exc
        except OSError as exc:
            raise ToolSetupError(f"{tool.name}'s settings could not be put back: {os_reason(exc)}.") from exc
        return self.state(tool.id, url)

    def restore_all(self) -> list[str]:
        """Every file Switchboard changed, put back; the files restored."""
        try:
            return [str(path) for path in self.backups.restore()]
        except ManifestUnreadable as exc:
            raise ToolSetupError(UNREADABLE_RECORD, detail=str(exc)) from exc
        except OSError as exc:
            raise ToolSetupError(f"The tools' settings could not all be put back: {os_reason(exc)}.") from exc


def _mode(path: Path, *, private: bool) -> int:
    """The permissions set-up writes ``path`` with: the file's own (a new one: the owner's only),
    none for others where a client key goes into it."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o600
    return mode & 0o700 if private else mode
