"""A TOML table being read into settings: typed readers that each name the key they complain
about, so a bad config file says exactly which line to fix; and ``first``, for a value that comes
from the file, else somewhere else, else a default."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from gateway.errors import ConfigError

_T = TypeVar("_T")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "cookie", "proxy-authorization"})
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class Table:
    """A TOML table being read; remembers its path for messages and rejects unknown keys."""

    def __init__(self, data: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
        self.data = data
        self.where = where

    def _fail(self, key: str, expected: str) -> ConfigError:
        return ConfigError(f"{self.where}.{key} must be {expected}, not {self.data[key]!r}")

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self._fail(key, "a non-empty string")
        return value.strip()

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self._fail(key, "true or false")

    def number(self, key: str, low: float, high: float) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self._fail(key, f"a number from {low:g} to {high:g}")
        return float(value)

    def whole(self, key: str, low: int, high: int) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._fail(key, f"an integer from {low} to {high}")
        return value

    def texts(self, key: str) -> tuple[str, ...] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self._fail(key, "a list of strings")
        return tuple(v.strip() for v in value)

    def wholes(self, key: str, low: int, high: int) -> tuple[tuple[str, int], ...] | None:
        """A table of names to integers."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict) or not all(
            name.strip() and type(v) is int and low <= v <= high for name, v in value.items()
        ):
            raise self._fail(key, f"a table of names to integers from {low} to {high}")
        return tuple((name.strip(), v) for name, v in value.items())

    def headers(self, key: str) -> tuple[tuple[str, str], ...] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._fail(key, "a table of header names to values")
        out = []
        for name, val in value.items():
            lowered = name.lower()
            if not _HEADER_NAME.match(name) or not isinstance(val, str) or unsafe_header_value(val):
                raise ConfigError(f"{self.where}.{key}: header {name!r} is not a valid header")
            if lowered in _CREDENTIAL_HEADERS:
                raise ConfigError(
                    f"{self.where}.{key}: credentials do not belong in the config file; "
                    "name the environment variable that holds the key in api_key_env"
                )
            if lowered in _RESERVED_HEADERS:
                raise ConfigError(f"{self.where}.{key}: header {name!r} is set by the gateway")
            out.append((name, val))
        return tuple(out)


def unsafe_header_value(value: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in value) or not value.isascii()


def first(*values: _T | None) -> _T:
    """The first value the file (or a flag, or the environment) gave, else the default given last."""
    return next(v for v in values if v is not None)
