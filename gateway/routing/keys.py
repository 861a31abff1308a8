"""A provider's keys, taken in turn so load spreads evenly across them."""

from __future__ import annotations


class KeyRing:
    __slots__ = ("_keys", "_next")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = keys
        self._next = 0

    @property
    def keys(self) -> tuple[str, ...]:
        return self._keys

    def pick(self) -> str | None:
        if not self._keys:
            return None
        key = self._keys[self._next % len(self._keys)]
        self._next += 1
        return key
