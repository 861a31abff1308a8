"""One JSON exchange with an auth server through the gateway's transport.

What an auth server says when it refuses is never repeated: only its status and its error code
(the short machine word, such as ``invalid_grant``) reach an error, a log line or the audit log.
Auth servers echo the request they refuse, and that request carries a refresh token, an
authorization code and its verifier, or a device code (SECURITY.md S30, B44).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from gateway.errors import UpstreamError
from gateway.formats.common import jsonbody
from gateway.transport import Timeouts, Transport, UpstreamRequest
from gateway.version import __version__

MAX_ANSWER = 1024 * 1024
TIMEOUTS = Timeouts(connect=10.0, read=30.0, total=60.0)
USER_AGENT = f"Switchboard/{__version__}"
# OAuth error codes (RFC 6749 §5.2, GitHub's, ChatGPT's) are short lower-case words; anything else
# in that place is not a code and is not repeated.
_MACHINE_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")


def machine_code(value: object) -> str:
    """``value`` when it is an error code's machine word, else ""."""
    return value if isinstance(value, str) and _MACHINE_CODE.fullmatch(value) else ""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]  # {} when the answer was not a JSON object
    headers: Mapping[str, str]

    def error_code(self) -> str:
        """The refusal's code: OAuth's ``error``, or ChatGPT's ``error.code``/``error.type``, or a
        top-level ``code``; "" when none is a machine word."""
        error = self.body.get("error")
        if isinstance(error, dict):
            return machine_code(error.get("code")) or machine_code(error.get("type"))
        return machine_code(error) or machine_code(self.body.get("code"))

    def refusal(self) -> str:
        """What may be said of a refused answer: its status and its code, nothing of its text."""
        code = self.error_code()
        return f"HTTP {self.status}, {code}" if code else f"HTTP {self.status}"


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
    account: str = "",
) -> Answer:
    """Send one request and read its JSON answer, whatever the status. ``account``: the signed-in
    account it is made for (a renewal, a quota read), whose own proxy it takes."""
    body: bytes | None = None
    sent = [("Accept", "application/json"), ("User-Agent", USER_AGENT), *headers]
    if form is not None:
        body = urlencode(form).encode()
        sent.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif json is not None:
        body = jsonbody.encode(json)
        sent.append(("Content-Type", "application/json"))
    try:
        response = await transport.send(UpstreamRequest(who, method, url, tuple(sent), body, TIMEOUTS, account))
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
