"""Moving the state — settings, database, audit anchor, secrets, logs — to another folder, for
the app's Settings page. The gateway must be stopped first.

Nothing is lost on the way: the database is copied with SQLite's backup (its WAL included),
the keychain entries, which are namespaced by the data folder's path, are written again under
the new one, and the copy must open and verify its audit chain against the copied anchor
before anything old is removed. A failure before that point removes the copy and leaves the
old state as it was. Then the platform's config folder is told where the state now is (the
pointer every entry point reads) and the old copies go; what cannot be removed is named.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from gateway.admin.state import ANCHOR_KEY, JWT_SECRET, PEPPER, State
from gateway.clock import SystemClock
from gateway.errors import ConfigError
from gateway.paths import POINTER, StatePaths, home_paths, write_private
from gateway.store import accounts, audit, provider_keys, proxy_passwords
from gateway.store.db import FILE_NAME as DB_FILE
from gateway.store.secrets import SecretStore, open_secrets

log = logging.getLogger("gateway.admin.state")

MOVABLE = ("default", "moved")  # a folder given with --home or SWITCHBOARD_HOME is the caller's to move


def check_target(paths: StatePaths, target: Path) -> Path:
    """The folder to move to, or a ConfigError saying why it cannot be."""
    if paths.source not in MOVABLE:
        how = "--home" if paths.source == "option" else "SWITCHBOARD_HOME"
        raise ConfigError(
            "Switchboard was told which folder to use when it was started, so it does not move it: move it "
            "yourself, and start Switchboard with the new place.",
            detail=f"chosen with {how}",
        )
    target = target.expanduser().resolve()
    for folder in {paths.config_dir, paths.data_dir, paths.log_dir}:
        if target == folder or target.is_relative_to(folder) or folder.is_relative_to(target):
            raise ConfigError(f"{target} overlaps the folder in use now ({folder}); choose another")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} is not an empty folder; choose an empty or a new one")
    return target


def move_state(
    paths: StatePaths,
    target: Path,
    defaults: StatePaths,
    open_store: Callable[[Path], SecretStore] = open_secrets,
) -> tuple[StatePaths, list[str]]:
    """Move everything to ``target``; return the new paths and what of the old could not be
    removed. ``defaults``: the platform's folders, where the pointer goes."""
    target = check_target(paths, target)
    made = not target.exists()
    new = home_paths(target, "moved")
    old_store = open_store(paths.data_dir)
    names = [*_secret_names(paths.data_dir / DB_FILE, old_store), *proxy_passwords.entry_names(paths.config_file)]
    new_store: SecretStore | None = None
    try:
        new.ensure()
        _copy_files(paths, new)
        new_store = open_store(new.data_dir)
        for name in names:
            value = old_store.get(name)
            if value is not None:
                new_store.set(name, value)
        _verify_and_note(new, new_store, paths)
    except BaseException:
        _remove(new, None if new_store is old_store else new_store, names, made)
        raise
    defaults.config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private(defaults.config_dir / POINTER, f"{target}\n")
    log.info("state moved from %s to %s", paths.config_dir, target)
    return new, _remove(paths, None if new_store is old_store else old_store, names, paths.source == "moved")


def _secret_names(db: Path, store: SecretStore) -> list[str]:
    """Every entry the state has in its secret store (keychains cannot list them)."""
    names = [PEPPER, JWT_SECRET, ANCHOR_KEY, *provider_keys.entry_names(store)]
    if db.exists():
        with contextlib.closing(sqlite3.connect(db)) as conn:
            names += [accounts.secret_name(row.id) for row in accounts.load(conn)]
    return names


def _private_copy(source: Path, dest: Path) -> None:
    shutil.copyfile(source, dest)
    os.chmod(dest, 0o600)


def _copy_files(old: StatePaths, new: StatePaths) -> None:
    if old.config_file.is_file():
        _private_copy(old.config_file, new.config_file)
    for source, dest in ((old.data_dir, new.data_dir), (old.log_dir, new.log_dir)):
        for item in _files(source, old):
            if item.name.startswith(f"{DB_FILE}-"):
                continue  # the WAL and shared memory go into the backup's copy
            if item.name == DB_FILE:
                _backup(item, dest / DB_FILE)
            else:
                _private_copy(item, dest / item.name)


def _files(folder: Path, paths: StatePaths) -> list[Path]:
    """The state's files in one of its folders: where the data folder is the config folder too
    (macOS, Windows), neither the settings file nor the pointer."""
    if not folder.is_dir():
        return []
    return sorted(f for f in folder.iterdir() if f.is_file() and f != paths.config_file and f.name != POINTER)


def _backup(source: Path, dest: Path) -> None:
    os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(dest)) as dst:
        src.backup(dst)


def _verify_and_note(new: StatePaths, store: SecretStore, old: StatePaths) -> None:
    state = State(new.data_dir, store, SystemClock())
    try:
        state.open()
        db = state.db
        verdict = db.writer.run(lambda conn: audit.verify(conn, db.anchor)).result()
        if not verdict.ok or db.anchor_problem:
            raise ConfigError(
                f"the copy's audit log does not verify ({verdict.reason or db.anchor_problem}); nothing was moved"
            )
        db.audit("app", "state.moved", {"from": str(old.config_dir), "to": str(new.config_dir)}).result()
    finally:
        state.close()


def _remove(paths: StatePaths, store: SecretStore | None, names: list[str], whole: bool) -> list[str]:
    """Remove one place's state: its files, its secrets, its folders once empty (the config
    folder too when it is the state's own, ``whole``). Returns what could not be removed."""
    left: list[str] = []
    if store is not None:
        for name in names:
            try:
                store.delete(name)
            except Exception as exc:  # keyring backends raise their own kinds
                left.append(f"the secret {name!r} in {store.where} ({exc})")
    files = [paths.config_file, *_files(paths.data_dir, paths), *_files(paths.log_dir, paths)]
    # Where the data folder is the config folder (macOS, Windows), it keeps the pointer: not removed.
    folders = [
        *(f for f in (paths.data_dir, paths.log_dir) if f != paths.config_dir),
        *([paths.config_dir] if whole else []),
    ]
    for item in files:
        try:
            item.unlink(missing_ok=True)
        except OSError as exc:
            left.append(f"{item} ({exc.strerror})")
    for folder in folders:
        with contextlib.suppress(FileNotFoundError):
            try:
                folder.rmdir()
            except OSError:
                left.append(f"{folder} (not empty)")
    return left
