"""Every failure the gateway reports, as one hierarchy.

    Fixable                             words (``message``), a ``Fix`` and ``detail``: the base of all
    ├── ConfigError                     the settings cannot be used (also: the state folder is busy)
    ├── ListenError                     (runtime) the gateway cannot start or listen
    ├── ImportProblem                   (auth) no login on disk to import
    ├── ToolSetupError                  (admin) a tool's settings file cannot be changed or put back
    └── GatewayError                    carries status, type, code, param and a safe message
        ├── RequestRejected             the caller's request is refused; no upstream is contacted
        │   ├── InvalidRequest          400  names the offending field in ``param``
        │   ├── Unauthorized            401  no valid credential (client key, admin token or login)
        │   ├── Forbidden               403  foreign Host or Origin; a client key on an admin route
        │   ├── ModelNotFound           404  names the model
        │   ├── RouteNotFound           404
        │   ├── MethodNotAllowed        405
        │   ├── RequestTimeout          408  the body did not arrive in time
        │   ├── PayloadTooLarge         413
        │   ├── UnsupportedMediaType    415
        │   └── LimitExceeded           429  the caller's own limits (its tier), before routing
        └── UpstreamError               talking to a provider went wrong
            ├── UpstreamUnreachable     502  connect refused, DNS, TLS
            ├── UpstreamTimeout         504  no first byte, or silence mid-stream, or total deadline
            ├── UpstreamBadResponse     502  HTML page, broken JSON, redirect, truncated stream
            ├── UpstreamStatus          the provider's own 4xx/5xx, status kept
            └── NoRouteAvailable        429/503  every route is resting (cooling, benched, breaker open)

Each protocol's codec renders these into its own error shape; the message never holds a secret
(see ``gateway.redact``) and never a traceback.

A failure a person can do something about says so in plain words (no command, flag, variable name
or errno: the app shows them as they are) and carries a ``Fix``: what to do, as an id that each
front-end words its own way (the CLI as a command, ``gateway.cli.fixes``; the app as a button,
``app.words``), and ``detail``, the technical text (an errno, the variable read) kept for whoever
asks for it.
"""

from __future__ import annotations

import errno
import socket
import ssl
from dataclasses import dataclass
from typing import Literal

FixId = Literal[
    "choose_port",  # the port is taken: listen on another one
    "undo_change",  # a settings change left the gateway unable to start: put the previous settings back
    "add_client_key",  # beyond loopback every caller needs a client key, and there is none
    "store_key",  # a provider has no key (``subject``: its id)
    "check_connection",  # an address could not be reached (``subject``: the host)
    "trust_certificate",  # a host's certificate is not trusted: name its root in the settings (``subject``: host)
    "sign_in_chatgpt",  # no Codex login to import: sign in with ChatGPT instead
    "sign_in_copilot",  # no editor's Copilot login to import (``subject``: the GitHub host): sign in instead
    "own_folder",  # another gateway serves from this state folder: this one could use a folder of its own
    "unlock_secrets",  # the secrets file is encrypted and no passphrase was given (or a wrong one)
    "set_aside_secrets",  # the secrets file cannot be read: move it aside, kept, and start with new secrets
]


@dataclass(frozen=True, slots=True)
class Fix:
    id: FixId
    subject: str = ""  # what it is for, where the fix needs it: a provider id, a host


class Fixable(Exception):
    """A failure said in words (``message``), with what would help (``fix``) and the technical
    ``detail`` (the errno, the variable or file read; never shown unasked): the one base of every
    failure a window or a terminal says, whichever layer raises it."""

    def __init__(self, message: str, *, fix: Fix | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.detail = detail


def reason_of(exc: OSError) -> str:
    """Why a connection could not be made, in words (the errno and the system's text are for the
    ``detail``): the name not found, refused, no network, a certificate not trusted."""
    if isinstance(exc, socket.gaierror):
        return "its name could not be looked up (no internet connection, or a wrong address?)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "its certificate is not one this computer trusts"
    if isinstance(exc, ssl.SSLError):
        return "the secure connection failed"
    if isinstance(exc, ConnectionRefusedError):
        return "nothing is listening there (connection refused)"
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN):
        return "the network cannot get there (no internet connection?)"
    if isinstance(exc, ConnectionResetError | ConnectionAbortedError):
        return "the connection was cut"
    # The gateway's own refusals carry no errno and say why in words (an address it may not use).
    return str(exc) if exc.errno is None and str(exc) else "the connection failed"


def os_reason(exc: OSError) -> str:
    """Why a file could not be read or written, in the system's words without its error number
    ("permission denied", "is a directory")."""
    return (exc.strerror or "the system refused").rstrip(".").lower()


def fix_of(exc: BaseException) -> tuple[Fix | None, str]:
    """The fix and technical detail ``exc`` carries (none for any other exception)."""
    return (exc.fix, exc.detail) if isinstance(exc, Fixable) else (None, "")


class GatewayError(Fixable):
    status: int = 500
    error_type: str = "server_error"
    code: str | None = None
    route: str | None = None  # the last route tried, when routing got that far (never a secret)
    attempts: int | None = None  # how many routes were tried, once routing has run
    counted: bool = False  # in the usage ledger already (the accountant marks it)

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: int | None = None,
        fix: Fix | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message, fix=fix, detail=detail)
        self.param = param
        if code is not None:
            self.code = code
        self.retry_after = retry_after


class ConfigError(Fixable):
    """The configuration cannot be used; the message says which key and why."""


class RequestRejected(GatewayError):
    status = 400
    error_type = "invalid_request_error"


class InvalidRequest(RequestRejected):
    pass


class Unauthorized(RequestRejected):
    status = 401
    error_type = "authentication_error"
    code = "invalid_admin_token"


class Forbidden(RequestRejected):
    status = 403
    error_type = "permission_error"
    code = "forbidden"


class ModelNotFound(RequestRejected):
    status = 404
    error_type = "not_found_error"
    code = "model_not_found"


class RouteNotFound(RequestRejected):
    status = 404
    error_type = "not_found_error"
    code = "unknown_route"


class MethodNotAllowed(RequestRejected):
    status = 405
    code = "method_not_allowed"


class RequestTimeout(RequestRejected):
    status = 408
    code = "request_timeout"


class PayloadTooLarge(RequestRejected):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(RequestRejected):
    status = 415
    code = "unsupported_media_type"


class LimitExceeded(RequestRejected):
    status = 429
    error_type = "rate_limit_error"
    code = "rate_limit_exceeded"


class UpstreamError(GatewayError):
    status = 502
    error_type = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        param: str | None = None,
        code: str | None = None,
        retry_after: int | None = None,
        fix: Fix | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message, param=param, code=code, retry_after=retry_after, fix=fix, detail=detail)
        self.provider = provider


class UpstreamUnreachable(UpstreamError):
    code = "upstream_unreachable"


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"


class UpstreamBadResponse(UpstreamError):
    code = "upstream_bad_response"


class UpstreamStatus(UpstreamError):
    """The provider answered with an error status; we keep its status, type and code."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int,
        error_type: str,
        code: str | None,
        param: str | None = None,
        retry_after: int | None = None,
        resets_in: float | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message, provider=provider, param=param, retry_after=retry_after)
        self.status = status
        self.error_type = error_type
        self.code = code
        self.resets_in = resets_in  # seconds until the limit lifts, as the upstream said (uncapped)
        self.should_retry = should_retry  # the upstream's x-should-retry, when sent


class NoRouteAvailable(UpstreamError):
    """Nothing was sent: every route that could serve is resting. 429 when rate limits or quotas
    are why (the caller should wait ``retry_after``), 503 when breakers are."""

    def __init__(self, message: str, *, status: int, retry_after: int | None) -> None:
        super().__init__(message, provider="", retry_after=retry_after)
        self.status = status
        self.error_type = "rate_limit_error" if status == 429 else "upstream_error"
        self.code = "all_routes_resting"
