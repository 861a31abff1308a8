"""The state folder's lock, in one process (SECURITY.md B45): a second taker is refused, named the
holder, and leaves the file as it was; the lock is free again once let go."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.store.folder_lock import LOCK_FILE, FolderBusy, FolderLock


def test_a_second_taker_is_refused_until_the_first_lets_go(tmp_path: Path) -> None:
    first = FolderLock.take(tmp_path)
    written = (tmp_path / LOCK_FILE).read_bytes()
    assert written == f"{os.getpid()}\n".encode()
    with pytest.raises(FolderBusy, match=f"process {os.getpid()}"):
        FolderLock.take(tmp_path)
    assert (tmp_path / LOCK_FILE).read_bytes() == written
    first.release()
    first.release()  # twice is harmless
    FolderLock.take(tmp_path).release()
