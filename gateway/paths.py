"""Where Switchboard keeps its state.

With a home folder (``--home DIR`` or ``SWITCHBOARD_HOME``) everything lives under it: tests,
portable installs and servers get one folder to back up or delete. Otherwise the platform's own
config and data folders are used (``platformdirs``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "Switchboard"
HOME_ENV = "SWITCHBOARD_HOME"


@dataclass(frozen=True, slots=True)
class StatePaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    def ensure(self) -> None:
        """Create the folders, private to the user (0700 on POSIX)."""
        for folder in (self.config_dir, self.data_dir, self.log_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def resolve_paths(home: str | os.PathLike[str] | None, env: Mapping[str, str]) -> StatePaths:
    chosen = home if home is not None else env.get(HOME_ENV) or None
    if chosen is not None:
        root = Path(chosen).expanduser().resolve()
        return StatePaths(config_dir=root, data_dir=root / "data", log_dir=root / "logs")
    import platformdirs  # only needed when no home folder is given

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return StatePaths(
        config_dir=Path(dirs.user_config_dir),
        data_dir=Path(dirs.user_data_dir),
        log_dir=Path(dirs.user_log_dir),
    )


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` whole with ``text``, created readable only by the owner (0600) from the
    start: written to a temporary file beside it, then renamed over it."""
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)
