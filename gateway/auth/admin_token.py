"""The local admin token: a fresh random secret at every start, in a file only the owner can read.

Whoever can read the gateway's data folder is already its administrator, so reading the token
from there (as ``python -m gateway status`` does) proves it. The token never leaves the machine
and dies with the process that wrote it.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from gateway.paths import write_private

FILE_NAME = "admin.token"


def issue(folder: Path) -> str:
    """A new token, written (replacing any old one) to ``folder/admin.token`` with mode 0600."""
    token = "sb-admin-" + secrets.token_urlsafe(32)
    write_private(folder / FILE_NAME, token)
    return token


def read(folder: Path) -> str | None:
    try:
        return (folder / FILE_NAME).read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def matches(presented: str | None, token: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), token.encode())
