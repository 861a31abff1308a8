"""The user's own settings files, kept before Switchboard first changes them, and a manifest of
every file changed, so "Restore" (one tool) and "restore all" (the uninstaller, Settings) put each
back byte for byte — or remove it where it did not exist before.

A file is kept once: setting a tool up again (another model, a new address) changes the file
again but keeps the first copy, the user's own. Writes are atomic (a temporary file beside the
target, then a rename), so a crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Kept:
    tool: str
    path: Path
    existed: bool  # False: the file was made by Switchboard, and restoring removes it
    copy: str  # the kept copy's name in the backups folder ("" where the file did not exist)
    made_dirs: tuple[str, ...]  # folders made for it, removed again when restored and empty
    at: float


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _missing_parents(path: Path) -> tuple[str, ...]:
    made = []
    folder = path.parent
    while not folder.exists():
        made.append(str(folder))
        folder = folder.parent
    return tuple(made)


class Backups:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _read(self) -> list[Kept]:
        try:
            entries: list[dict[str, Any]] = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))["files"]
        except FileNotFoundError:
            return []
        return [
            Kept(e["tool"], Path(e["path"]), e["existed"], e["copy"], tuple(e.get("made_dirs", ())), e["at"])
            for e in entries
        ]

    def _write(self, kept: list[Kept]) -> None:
        entries = [
            {
                "tool": k.tool,
                "path": str(k.path),
                "existed": k.existed,
                "copy": k.copy,
                "made_dirs": list(k.made_dirs),
                "at": k.at,
            }
            for k in kept
        ]
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(self.folder / MANIFEST, json.dumps({"files": entries}, indent=2).encode(), 0o600)

    def kept(self, tool: str | None = None) -> list[Kept]:
        return [k for k in self._read() if tool is None or k.tool == tool]

    def keep(self, tool: str, path: Path) -> None:
        """Keep ``path`` as it is now, unless it was kept before (that copy is the user's own)."""
        kept = self._read()
        if any(k.path == path for k in kept):
            return
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        copy = ""
        if path.exists():
            copy = f"{tool}-{hashlib.sha256(str(path).encode()).hexdigest()[:12]}-{path.name}"
            write_atomic(self.folder / copy, path.read_bytes(), 0o600)
        kept.append(Kept(tool, path, bool(copy), copy, _missing_parents(path), time.time()))
        self._write(kept)

    def restore(self, tool: str | None = None) -> list[Path]:
        """Every file kept for ``tool`` (None: for every tool) put back; the paths restored."""
        kept = self._read()
        done = []
        for entry in [k for k in kept if tool is None or k.tool == tool]:
            self._put_back(entry)
            kept.remove(entry)
            self._write(kept)  # after each: a failure later leaves the rest restorable
            if entry.copy:
                (self.folder / entry.copy).unlink(missing_ok=True)
            done.append(entry.path)
        return done

    def _put_back(self, entry: Kept) -> None:
        if entry.existed:
            mode = entry.path.stat().st_mode & 0o7777 if entry.path.exists() else None
            write_atomic(entry.path, (self.folder / entry.copy).read_bytes(), mode)
            return
        entry.path.unlink(missing_ok=True)
        for folder in entry.made_dirs:  # innermost first
            with contextlib.suppress(OSError):  # not empty: the tool keeps more there now
                Path(folder).rmdir()
