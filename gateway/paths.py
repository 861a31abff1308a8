"""Where Switchboard keeps its state.

With a home folder (``--home DIR`` or ``SWITCHBOARD_HOME``) everything lives under it: tests,
portable installs and servers get one folder to back up or delete. Otherwise the platform's own
config and data folders are used (``platformdirs``) — unless the state was moved from the app,
which leaves the new folder's path in a file there (``POINTER``), read by every entry point.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import ConfigError

APP_NAME = "Switchboard"
HOME_ENV = "SWITCHBOARD_HOME"
POINTER = "home-folder.txt"  # in the platform's config folder: where the state was moved to
SOURCES = ("option", "environment", "moved", "default")


@dataclass(frozen=True, slots=True)
class StatePaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path
    source: str = "default"  # what chose them: one of SOURCES

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    def ensure(self) -> None:
        """Create the folders, private to the user (0700 on POSIX)."""
        for folder in (self.config_dir, self.data_dir, self.log_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def home_paths(root: str | os.PathLike[str], source: str) -> StatePaths:
    """Everything under one folder."""
    root = Path(root).expanduser().resolve()
    return StatePaths(config_dir=root, data_dir=root / "data", log_dir=root / "logs", source=source)


def platform_paths() -> StatePaths:
    import platformdirs  # only needed when no home folder is given

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return StatePaths(Path(dirs.user_config_dir), Path(dirs.user_data_dir), Path(dirs.user_log_dir))


def resolve_paths(
    home: str | os.PathLike[str] | None, env: Mapping[str, str], defaults: StatePaths | None = None
) -> StatePaths:
    """``--home``, else ``SWITCHBOARD_HOME``, else where the state was moved to, else the
    platform's folders (``defaults``, injected by tests)."""
    if home is not None:
        return home_paths(home, "option")
    if env.get(HOME_ENV):
        return home_paths(env[HOME_ENV], "environment")
    defaults = defaults or platform_paths()
    moved = moved_to(defaults)
    if moved is None:
        return defaults
    if not moved.is_dir():  # an unplugged drive must not quietly become a fresh, empty state
        raise ConfigError(
            f"Switchboard's folder was moved to {moved}, which is not there now. Reconnect the drive "
            f"it is on, or delete {defaults.config_dir / POINTER} to start afresh in the usual place."
        )
    return home_paths(moved, "moved")


def moved_to(defaults: StatePaths) -> Path | None:
    """The folder the state was moved to, if it was."""
    try:
        text = (defaults.config_dir / POINTER).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return Path(text) if text else None


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` whole with ``text``, created readable only by the owner (0600) from the
    start: written to a temporary file beside it, then renamed over it."""
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)
