"""Request ids: unique per process run, cheap to make (a random boot prefix and a counter)."""

from __future__ import annotations

import itertools
import secrets


class RequestIds:
    __slots__ = ("_counter", "_prefix")

    def __init__(self) -> None:
        self._prefix = f"req_{secrets.token_hex(6)}"
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter):010x}"
