"""Start at login, the way each OS does it: an XDG autostart entry on Linux, a LaunchAgent on
macOS, a value under the Run key on Windows. The folders and the registry are injected, so the
tests check exactly what is written."""

from __future__ import annotations

import plistlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

APP_ID = "switchboard"
LAUNCH_LABEL = "app.switchboard.tray"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Switchboard"


class Autostart(Protocol):
    def enabled(self) -> bool: ...
    def enable(self) -> None: ...
    def disable(self) -> None: ...
    @property
    def where(self) -> str: ...


def launch_command(frozen: bool | None = None, executable: str | None = None) -> list[str]:
    """How this app is started again: the frozen executable, or this Python with ``-m app``."""
    frozen = getattr(sys, "frozen", False) if frozen is None else frozen
    exe = executable or sys.executable
    return [exe] if frozen else [exe, "-m", "app"]


def _desktop_quote(arg: str) -> str:
    """Quoting of the Desktop Entry spec's Exec key."""
    if not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


class _EntryFile:
    """Start at login as one file the session reads (Linux, macOS): there or not."""

    def __init__(self, path: Path, command: Sequence[str]) -> None:
        self.path = path
        self._command = command

    @property
    def where(self) -> str:
        return str(self.path)

    def enabled(self) -> bool:
        return self.path.is_file()

    def enable(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(self._contents())

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)

    def _contents(self) -> bytes:
        raise NotImplementedError


class XdgAutostart(_EntryFile):
    def __init__(self, config_home: Path, command: Sequence[str]) -> None:
        super().__init__(config_home / "autostart" / f"{APP_ID}.desktop", command)

    def _contents(self) -> bytes:
        exec_line = " ".join(_desktop_quote(a) for a in self._command)
        return (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Switchboard\n"
            "Comment=Local LLM gateway\n"
            f"Exec={exec_line}\n"
            "Icon=switchboard\n"
            "Terminal=false\n"
            "StartupWMClass=switchboard\n"
            "X-GNOME-Autostart-enabled=true\n"
        ).encode()


class LaunchAgent(_EntryFile):
    def __init__(self, home: Path, command: Sequence[str]) -> None:
        super().__init__(home / "Library" / "LaunchAgents" / f"{LAUNCH_LABEL}.plist", command)

    def _contents(self) -> bytes:
        plist = {
            "Label": LAUNCH_LABEL,
            "ProgramArguments": list(self._command),
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",  # the user's graphical session, not ssh
        }
        return plistlib.dumps(plist)


class Registry(Protocol):
    """The three calls on ``HKEY_CURRENT_USER\\...\\Run`` this needs (``winreg`` on Windows)."""

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class WinregRun:
    """The real Run key, through ``winreg`` (Windows only)."""

    def get(self, name: str) -> str | None:
        if sys.platform != "win32":
            raise OSError("the registry exists on Windows only")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_QUERY_VALUE) as key:
                value, _ = winreg.QueryValueEx(key, name)
        except FileNotFoundError:
            return None
        return str(value)

    def set(self, name: str, value: str) -> None:
        if sys.platform != "win32":
            raise OSError("the registry exists on Windows only")
        import winreg

        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)

    def delete(self, name: str) -> None:
        if sys.platform != "win32":
            raise OSError("the registry exists on Windows only")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, name)
        except FileNotFoundError:
            pass


class WindowsRun:
    def __init__(self, registry: Registry, command: Sequence[str]) -> None:
        self._registry = registry
        self._command = command

    @property
    def where(self) -> str:
        return f"HKEY_CURRENT_USER\\{RUN_KEY}\\{RUN_VALUE}"

    def value(self) -> str:
        return " ".join(f'"{a}"' if " " in a else a for a in self._command)

    def enabled(self) -> bool:
        return self._registry.get(RUN_VALUE) is not None

    def enable(self) -> None:
        self._registry.set(RUN_VALUE, self.value())

    def disable(self) -> None:
        self._registry.delete(RUN_VALUE)


def for_platform(
    platform: str,
    home: Path,
    env: Mapping[str, str],
    command: Sequence[str],
    registry: Registry | None = None,
) -> Autostart:
    if platform == "win32":
        return WindowsRun(registry or WinregRun(), command)
    if platform == "darwin":
        return LaunchAgent(home, command)
    config_home = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return XdgAutostart(config_home, command)
