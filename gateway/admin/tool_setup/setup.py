"""Set a tool up, restore it, restore them all: the one implementation the command line and the
app share. Blocking file work: the app runs it on a worker thread."""

from __future__ import annotations

from typing import TypedDict

from gateway.admin.tool_setup.backups import Backups, write_atomic
from gateway.admin.tool_setup.catalog import BY_ID, TOOLS
from gateway.admin.tool_setup.places import Places
from gateway.admin.tool_setup.target import Target, Tool, ToolSetupError


def _why(exc: OSError) -> str:
    """The system's reason in words ("Permission denied"), without its error number."""
    return (exc.strerror or "the system refused").rstrip(".").lower()


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

    def _text(self, tool: Tool) -> str:
        path = tool.file(self.places)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""
        except UnicodeDecodeError as exc:
            raise ToolSetupError(f"{tool.name}'s settings file {path} is not text, so it was left as it is.") from exc
        except OSError as exc:
            raise ToolSetupError(f"{tool.name}'s settings file {path} could not be read: {_why(exc)}.") from exc

    def state(self, tool_id: str, url: str) -> ToolState:
        tool = self.tool(tool_id)
        try:
            connected = tool.points_at(self._text(tool), url)
        except (ValueError, ToolSetupError):  # a file the user broke is not ours to judge here
            connected = False
        return ToolState(
            id=tool.id,
            name=tool.name,
            installed=any(self.places.find(p) for p in tool.programs) or tool.folder(self.places).is_dir(),
            connected=connected,
            changed=bool(self.backups.kept(tool.id)),
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
        text = self._text(tool)
        try:
            changed = tool.configure(text, target)
        except ValueError as exc:
            raise ToolSetupError(
                f"{tool.name}'s settings file {path} could not be read ({exc}), so it was left as it is."
            ) from exc
        try:
            self.backups.keep(tool.id, path)
            mode = path.stat().st_mode & 0o7777 if path.exists() else 0o600
            write_atomic(path, changed.encode("utf-8"), mode)
        except OSError as exc:
            raise ToolSetupError(f"{tool.name}'s settings file {path} could not be written: {_why(exc)}.") from exc
        return self.state(tool.id, target.url)

    def restore(self, tool_id: str, url: str) -> ToolState:
        tool = self.tool(tool_id)
        try:
            self.backups.restore(tool.id)
        except OSError as exc:
            raise ToolSetupError(f"{tool.name}'s settings could not be put back: {_why(exc)}.") from exc
        return self.state(tool.id, url)

    def restore_all(self) -> list[str]:
        """Every file Switchboard changed, put back; the files restored."""
        try:
            return [str(path) for path in self.backups.restore()]
        except OSError as exc:
            raise ToolSetupError(f"The tools' settings could not all be put back: {_why(exc)}.") from exc
