"""One JSON exchange with an auth server through the gateway's transport."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from gateway.errors import UpstreamError
from gateway.formats import jsonbody
from gateway.transport import Timeouts, Transport, UpstreamRequest
from gateway.version import __version__

MAX_ANSWER = 1024 * 1024
TIMEOUTS = Timeouts(connect=10.0, read=30.0, total=60.0)
USER_AGENT = f"Switchboard/{__version__}"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]  # {} when the answer was not a JSON object
    headers: Mapping[str, str]


class AuthUnreachable(Exception):
    """The auth server could not be asked (network, timeout): worth trying again later."""


async def exchange(
    transport: Transport,
    method: str,
    url: str,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    form: dict[str, str] | None = None,
    json: dict[str, Any] | None = None,
    who: str = "auth",
) -> Answer:
    """Send one request and read its JSON answer, whatever the status."""
    body: bytes | None = None
    sent = [("Accept", "application/json"), ("User-Agent", USER_AGENT), *headers]
    if form is not None:
        body = urlencode(form).encode()
        sent.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif json is not None:
        body = jsonbody.encode(json)
        sent.append(("Content-Type", "application/json"))
    try:
        response = await transport.send(UpstreamRequest(who, method, url, tuple(sent), body, TIMEOUTS))
        try:
            raw = await response.read(MAX_ANSWER)
        finally:
            response.close()
    except UpstreamError as exc:
        raise AuthUnreachable(exc.message) from None
    try:
        parsed = jsonbody.loads(raw) if raw else {}
    except ValueError:
        parsed = {}
    return Answer(response.status, parsed if isinstance(parsed, dict) else {}, response.headers)
