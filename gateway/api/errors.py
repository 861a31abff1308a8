"""Failures rendered as HTTP responses, always JSON in the caller's protocol, never a traceback."""

from __future__ import annotations

from aiohttp import web

from gateway.errors import (
    GatewayError,
    InvalidRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
)
from gateway.formats.openai_errors import error_body


def error_response(err: GatewayError) -> web.Response:
    response = web.Response(
        status=err.status, body=error_body(err), headers={"Content-Type": "application/json"}
    )
    if err.retry_after is not None:
        response.headers["Retry-After"] = str(err.retry_after)
    return response


def from_http_exception(exc: web.HTTPException, method: str, path: str) -> GatewayError:
    """aiohttp's own refusals (no route, wrong method, too large) in our terms."""
    if isinstance(exc, web.HTTPNotFound):
        return RouteNotFound(f"Unknown request URL: {method} {path[:200]}.")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return MethodNotAllowed(
            f"Method {method} is not allowed on {path[:200]}; "
            f"allowed: {', '.join(sorted(exc.allowed_methods))}."
        )
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PayloadTooLarge("request body is too large")
    if exc.status < 500:
        err = InvalidRequest(exc.reason or "bad request")
        err.status = exc.status
        return err
    return GatewayError(exc.reason or "internal error")
