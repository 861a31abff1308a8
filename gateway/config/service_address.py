"""The address of a service a team's gateways share (``[store] url``, ``[shared] redis``), checked
the same way for each: a URL of one of the schemes the service speaks, and never its password
(the settings file is read by anyone who can read the settings and is shown in reports; the
password comes from the environment or the secret store)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from gateway.errors import ConfigError


def service_address(url: str, setting: str, schemes: tuple[str, ...], example: str, schemes_said: str) -> str:
    """``url`` when it is an address of one of ``schemes`` without a password; else ``ConfigError``
    naming ``setting`` ("[store].url"), with ``example`` for one that is no address at all."""
    try:
        parts = urlsplit(url)
        password, _ = parts.password, parts.port  # a port that is not a number is found here
    except ValueError:
        raise ConfigError(f"{setting} is not an address ({example})") from None
    if parts.scheme not in schemes:
        raise ConfigError(f"{setting} must be {schemes_said}")
    if password is not None or "password" in parse_qs(parts.query):
        raise ConfigError(
            f"{setting} must not hold the password: the gateway reads it from the environment or the secret store"
        )
    return url
