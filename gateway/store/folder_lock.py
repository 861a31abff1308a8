"""One gateway per state folder (SECURITY.md B45).

Two gateways on one folder would each write their own admin token over the other's and write one
database from two processes. The gateway that starts first holds an exclusive lock on
``gateway.lock`` in the data folder for as long as it serves, and writes its process id there; a
second one finds the lock taken, reads who holds it and stops before it writes anything.

The lock belongs to the open file, so the system lets it go when the process ends however it ends:
a crash leaves no stale lock, only the file (which the next gateway takes over).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gateway.errors import ConfigError, Fix

LOCK_FILE = "gateway.lock"
# Windows locks a byte range, which others can then not read: the lock sits past the process id.
_LOCKED_OFFSET = 1024


class FolderBusy(ConfigError):
    """Another gateway serves from this state folder."""


class FolderLock:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    @classmethod
    def take(cls, folder: Path) -> FolderLock:
        """Lock ``folder`` for this process, or raise ``FolderBusy`` naming the holder (the file
        is then left as it was)."""
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
        except OSError:
            holder = _holder(fd)
            os.close(fd)
            raise FolderBusy(
                f"Another Switchboard gateway{holder} is already serving from {folder}: stop it first.",
                fix=Fix("own_folder"),
            ) from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(fd)

    def release(self) -> None:
        if self._fd >= 0:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = -1


def _holder(fd: int) -> str:
    """`` (process N)`` from the lock file, or nothing when it does not say."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (process {text})" if text.isdigit() else ""


if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, _LOCKED_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, _LOCKED_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by the open file: per gateway, not per process

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
