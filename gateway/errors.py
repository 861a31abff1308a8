"""Every failure the gateway reports, as one hierarchy.

    GatewayError                    carries status, type, code, param and a safe message
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
    ├── UpstreamError               talking to a provider went wrong
    │   ├── UpstreamUnreachable     502  connect refused, DNS, TLS
    │   ├── UpstreamTimeout         504  no first byte, or silence mid-stream, or total deadline
    │   ├── UpstreamBadResponse     502  HTML page, broken JSON, redirect, truncated stream
    │   ├── UpstreamStatus          the provider's own 4xx/5xx, status kept
    │   └── NoRouteAvailable        429/503  every route is resting (cooling, benched, breaker open)

Each protocol's codec renders these into its own error shape; the message never holds a secret
(see ``gateway.redact``) and never a traceback.
"""

from __future__ import annotations


class GatewayError(Exception):
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
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.retry_after = retry_after


class ConfigError(Exception):
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
    ) -> None:
        super().__init__(message, param=param, code=code, retry_after=retry_after)
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
