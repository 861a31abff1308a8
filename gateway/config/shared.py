"""``[shared] redis``: team mode's fast state (limits' windows, renewal locks) in one Redis that
several gateways share. Unset, all of it stays in the process, as on the desktop.

The address never holds the password (the file is read by anyone who can read the settings and
shown in reports): the gateway takes it from ``SWITCHBOARD_REDIS_PASSWORD`` or the secret store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gateway.config.table import Table
from gateway.errors import ConfigError

PASSWORD_ENV = "SWITCHBOARD_REDIS_PASSWORD"
PASSWORD_SECRET = "redis-password"


@dataclass(frozen=True, slots=True)
class SharedSettings:
    redis: str | None = None  # redis://[user@]host:port/db, rediss:// (TLS) or unix://; None: in-process


def shared_settings(data: Mapping[str, Any]) -> SharedSettings:
    url = Table(data, "[shared]", {"redis"}).text("redis")
    if url is None:
        return SharedSettings()
    try:
        parts = urlsplit(url)
        password, _ = parts.password, parts.port  # a port that is not a number is found here
    except ValueError:
        raise ConfigError("[shared].redis is not an address (redis://host:port/database)") from None
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError("[shared].redis must be a redis://, rediss:// or unix:// address")
    if password is not None or "password" in parse_qs(parts.query):
        raise ConfigError(
            "[shared].redis must not hold the password: the gateway reads it from the environment or the secret store"
        )
    return SharedSettings(url)
