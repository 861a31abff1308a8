"""The user's own settings files, kept before Switchboard first changes them, and a manifest of
every file changed, so "Restore" (one tool) and "restore all" (the uninstaller, Settings) put each
back byte for byte, its permissions too — or remove it where it did not exist before.

A file is kept once: setting a tool up again (another model, a new address) changes the file
again but keeps the first copy, the user's own. What set-up last wrote is remembered by its hash:
a file changed since (by the user, or by the tool itself) is not lost to a restore but kept beside
it first (``<name>.switchboard-replaced``), so a restore deletes nothing Switchboard did not write.
Writes are atomic (a temporary file beside the target, then a rename), so a crash leaves the old
file or the new one, never half of one; a settings file that is a link is written where it leads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
REPLACED = ".switchboard-replaced"  # added to a file's name when a restore keeps what it would lose


class ManifestUnreadable(Exception):
    """The record of the files changed cannot be read (damaged by hand): nothing is changed."""


@dataclass(frozen=True, slots=True)
class Kept:
    tool: str
    path: Path
    existed: bool  # False: the file was made by Switchboard, and restoring removes it
    copy: str  # the kept copy's name in the backups folder ("" where the file did not exist)
    made_dirs: tuple[str, ...]  # folders made for it, removed again when restored and empty
    at: float
    mode: int | None = None  # the user's file's permissions, put back with it
    wrote: str = ""  # the hash of what set-up last wrote there ("": not written yet)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    if path.is_symlink():  # the user's dotfiles link: write the file it names, keep the link
        path = path.resolve()
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


def _entry(e: dict[str, Any]) -> Kept:
    mode = e.get("mode")
    return Kept(
        e["tool"],
        Path(e["path"]),
        bool(e["existed"]),
        str(e["copy"]),
        tuple(e.get("made_dirs", ())),
        float(e["at"]),
        mode if isinstance(mode, int) else None,
        str(e.get("wrote", "")),
    )


class Backups:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _read(self) -> list[Kept]:
        try:
            entries: list[dict[str, Any]] = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))["files"]
            return [_entry(e) for e in entries]
        except FileNotFoundError:
            return []
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestUnreadable(f"{self.folder / MANIFEST}: {exc}") from None

    def _write(self, kept: list[Kept]) -> None:
        entries = [
            {
                "tool": k.tool,
                "path": str(k.path),
                "existed": k.existed,
                "copy": k.copy,
                "made_dirs": list(k.made_dirs),
                "at": k.at,
                "mode": k.mode,
                "wrote": k.wrote,
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
        copy, mode = "", None
        if path.exists():
            copy = f"{tool}-{digest(str(path).encode())[:12]}-{path.name}"
            mode = path.stat().st_mode & 0o7777
            write_atomic(self.folder / copy, path.read_bytes(), 0o600)
        kept.append(Kept(tool, path, bool(copy), copy, _missing_parents(path), time.time(), mode))
        self._write(kept)

    def wrote(self, path: Path, data: bytes) -> None:
        """Remember what set-up wrote to ``path`` (kept before), to tell a later change by others."""
        kept = self._read()
        self._write([replace(k, wrote=digest(data)) if k.path == path else k for k in kept])

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
        self._save_others(entry)
        if entry.existed:
            mode = entry.mode
            if mode is None and entry.path.exists():
                mode = entry.path.stat().st_mode & 0o7777
            write_atomic(entry.path, (self.folder / entry.copy).read_bytes(), mode)
            return
        entry.path.unlink(missing_ok=True)
        for folder in entry.made_dirs:  # innermost first
            with contextlib.suppress(OSError):  # not empty: the tool keeps more there now
                Path(folder).rmdir()

    def _save_others(self, entry: Kept) -> None:
        """The file as it is now, kept beside it where someone other than set-up changed it since."""
        try:
            now = entry.path.read_bytes()
        except FileNotFoundError:
            return
        if entry.wrote and digest(now) == entry.wrote:
            return  # as set-up left it: nothing of anyone else's to lose
        if entry.existed and not entry.wrote and digest(now) == digest((self.folder / entry.copy).read_bytes()):
            return  # set-up never got to write it: it is the user's own still
        aside = entry.path.with_name(entry.path.name + REPLACED)
        n = 2
        while aside.exists():  # one kept by an earlier restore stays as it is
            aside, n = entry.path.with_name(f"{entry.path.name}{REPLACED}-{n}"), n + 1
        write_atomic(aside, now, entry.path.stat().st_mode & 0o7777)
