"""``[store] url``: where the gateway keeps its state. Unset, the SQLite database in its state
folder (the desktop, a single server); a ``postgresql://user@host:port/db`` address, one
PostgreSQL that several gateways share (team mode).

The address never holds the password: the file is read by anyone who can read the settings and
is shown in reports. The store takes the password from the environment or the secret store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gateway.config.table import Table
from gateway.errors import ConfigError


@dataclass(frozen=True, slots=True)
class StoreSettings:
    url: str | None = None  # None: the SQLite database in the state folder


def store_settings(data: Mapping[str, Any]) -> StoreSettings:
    url = Table(data, "[store]", {"url"}).text("url")
    if url is None:
        return StoreSettings()
    try:
        parts = urlsplit(url)
        password, _ = parts.password, parts.port  # a port that is not a number is found here
    except ValueError:
        raise ConfigError("[store].url is not an address (postgresql://user@host:port/database)") from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError("[store].url must be a postgresql:// address (unset: the database in the state folder)")
    if password is not None or "password" in parse_qs(parts.query):
        raise ConfigError(
            "[store].url must not hold the password: the gateway reads it from the environment or the secret store"
        )
    return StoreSettings(url)
