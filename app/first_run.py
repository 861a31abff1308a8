"""What the app remembers of its first start: whether the welcome was seen through (finished or
skipped), and whether the tray's "running here" notice was shown.

It is a small file in the state's data folder, next to the database, not an ``[app]`` setting: it is
the app's memory, not a preference a person would edit, so it does not belong in the settings file
(whose every change is checked and audited, and which a first start should not create), and it is
readable before the gateway has started or when it could not. A fresh state folder welcomes anew;
a moved one keeps it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path

FILE_NAME = "first-run.json"
WELCOMED = "welcomed"
TRAY_NOTICE = "tray_notice"
log = logging.getLogger("app")


class FirstRun:
    """``folder``: the data folder now (Settings may move it)."""

    def __init__(self, folder: Callable[[], Path]) -> None:
        self._folder = folder
        self._seen = self._read()
        self._writing = asyncio.Lock()  # one write at a time, each of everything seen so far

    @property
    def _path(self) -> Path:
        return self._folder() / FILE_NAME

    def _read(self) -> dict[str, bool]:
        """Once, at the app's start (before the window shows): a file of a few bytes."""
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:  # unreadable: better welcomed twice than never
            log.warning("could not read %s: %s", self._path, exc)
            return {}
        return {k: v for k, v in data.items() if isinstance(v, bool)} if isinstance(data, dict) else {}

    def seen(self, what: str) -> bool:
        return self._seen.get(what, False)

    async def mark(self, what: str) -> None:
        """Remember ``what`` from now on (written on a worker thread, not on the loop)."""
        if self._seen.get(what):
            return
        self._seen[what] = True
        async with self._writing:
            try:
                await asyncio.to_thread(self._write, json.dumps(self._seen, indent=2))
            except OSError as exc:  # it will be said again at the next start: nothing worse
                log.warning("could not write %s: %s", self._path, exc)

    def _write(self, text: str) -> None:
        """Whole or not at all: a reader never sees half a file."""
        path = self._path
        partial = path.with_name(path.name + ".partial")
        try:
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
        except OSError:
            partial.unlink(missing_ok=True)  # a disk that filled midway: no half-file left behind
            raise
