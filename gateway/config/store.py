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

from gateway.config.service_address import service_address
from gateway.config.table import Table


@dataclass(frozen=True, slots=True)
class StoreSettings:
    url: str | None = None  # None: the SQLite database in the state folder


def store_settings(data: Mapping[str, Any]) -> StoreSettings:
    url = Table(data, "[store]", {"url"}).text("url")
    if url is None:
        return StoreSettings()
    return StoreSettings(
        service_address(
            url,
            "[store].url",
            ("postgresql", "postgres"),
            "postgresql://user@host:port/database",
            "a postgresql:// address (unset: the database in the state folder)",
        )
    )
