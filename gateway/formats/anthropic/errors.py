"""Anthropic's error shape (protocols.md §3.5), for complete answers and inside a stream."""

from __future__ import annotations

from gateway.errors import GatewayError
from gateway.formats.common.jsonbody import encode

_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    415: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_KNOWN_TYPES = frozenset(_TYPE_BY_STATUS.values())


def error_type(err: GatewayError) -> str:
    """The type the status means; for other statuses the upstream's own type when Anthropic has
    it. (An OpenAI 404 says ``invalid_request_error``; Anthropic clients expect ``not_found_error``.)"""
    if (by_status := _TYPE_BY_STATUS.get(err.status)) is not None:
        return by_status
    if err.error_type in _KNOWN_TYPES:
        return err.error_type
    return "api_error" if err.status >= 500 else "invalid_request_error"


def _error(err: GatewayError) -> dict[str, object]:
    return {"type": "error", "error": {"type": error_type(err), "message": err.message}}


def error_body(err: GatewayError) -> bytes:
    return encode(_error(err))


def stream_error(err: GatewayError) -> bytes:
    return b"event: error\ndata: " + encode(_error(err)) + b"\n\n"
