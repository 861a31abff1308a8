"""``[shared] redis``: team mode's fast state (limits' windows, renewal locks) in one Redis that
several gateways share. Unset, all of it stays in the process, as on the desktop.

The address never holds the password (the file is read by anyone who can read the settings and
shown in reports): the gateway takes it from ``SWITCHBOARD_REDIS_PASSWORD`` or the secret store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.config.service_address import service_address
from gateway.config.table import Table

PASSWORD_ENV = "SWITCHBOARD_REDIS_PASSWORD"
PASSWORD_SECRET = "redis-password"


@dataclass(frozen=True, slots=True)
class SharedSettings:
    redis: str | None = None  # redis://[user@]host:port/db, rediss:// (TLS) or unix://; None: in-process


def shared_settings(data: Mapping[str, Any]) -> SharedSettings:
    url = Table(data, "[shared]", {"redis"}).text("redis")
    if url is None:
        return SharedSettings()
    return SharedSettings(
        service_address(
            url,
            "[shared].redis",
            ("redis", "rediss", "unix"),
            "redis://host:port/database",
            "a redis://, rediss:// or unix:// address",
        )
    )
