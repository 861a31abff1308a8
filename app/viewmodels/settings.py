"""The Settings page's values, read from the config file as written, and the changes that
saving them makes. No widgets: the page shows these and hands the changes to the gateway setup,
which checks them the way a start would."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway import LOG_LEVELS, THEMES, Change

APP_FOLDER = "Switchboard"
LOOPBACK_HOST = "127.0.0.1"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
LAN_HOST = "0.0.0.0"  # every interface: other computers reach the gateway by this machine's address
DEFAULT_PORT = 11488
LAN_WARNING = (
    "Other computers on your network will be able to reach Switchboard and spend your accounts' "
    "quota. Each of them must present a client key; keep keys secret and revoke any you stop using."
)


def chosen(config: dict[str, Any], table: str, key: str, choices: tuple[str, ...], default: str) -> str:
    """A choice the file makes, or the default where it makes none (or an unknown one: the
    gateway says so when it starts)."""
    value = (config.get(table) or {}).get(key)
    return value if value in choices else default


def theme_of(config: dict[str, Any]) -> str:
    return chosen(config, "app", "theme", THEMES, "system")


def log_level_of(config: dict[str, Any]) -> str:
    return chosen(config, "server", "log_level", LOG_LEVELS, "info")


@dataclass(frozen=True, slots=True)
class Network:
    """Where the gateway listens, as the Settings page edits it."""

    port: int = DEFAULT_PORT
    lan: bool = False
    require_keys: bool = False

    @classmethod
    def of(cls, config: dict[str, Any]) -> Network:
        server = config.get("server") or {}
        port = server.get("port")
        host = server.get("host", LOOPBACK_HOST)
        return cls(
            port=port if isinstance(port, int) and not isinstance(port, bool) else DEFAULT_PORT,
            lan=host not in LOOPBACK_NAMES,
            require_keys=server.get("require_keys") is True,
        )

    def changes(self, before: Network) -> list[Change]:
        """What saving writes: only what differs, so a host someone typed by hand (a single LAN
        address, say) stays unless LAN mode is switched."""
        out: list[Change] = []
        if self.port != before.port:
            out.append(("server", "port", None if self.port == DEFAULT_PORT else self.port))
        if self.lan != before.lan:
            out.append(("server", "host", LAN_HOST if self.lan else None))
        if self.require_keys != before.require_keys:
            out.append(("server", "require_keys", True if self.require_keys else None))
        return out


def move_target(chosen: Path) -> Path:
    """Where a move goes for a chosen folder: the folder itself when it is empty (or new), else a
    ``Switchboard`` folder inside it — people pick "Documents", not an empty folder."""
    if not chosen.exists() or (chosen.is_dir() and not any(chosen.iterdir())):
        return chosen
    return chosen / APP_FOLDER


def folder_note(source: str) -> str:
    """What the data folder's row says of how it was chosen."""
    if source in ("option", "environment"):
        # Set by how Switchboard was started (a shortcut's or a script's setting), which the app
        # cannot change: say so in plain words, with no command-line names.
        return (
            "Chosen by the way Switchboard was started, so it cannot be moved from here; "
            "change the shortcut or script that starts it."
        )
    return "Settings, the database, the audit log and the logs. Moving takes secrets in the keychain along."
