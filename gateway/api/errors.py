"""Failures rendered as HTTP responses, always JSON in the caller's protocol, never a traceback."""

from __future__ import annotations

from aiohttp import web

from gateway.errors import GatewayError, InvalidRequest
from gateway.formats.openai_errors import error_body


def error_response(err: GatewayError) -> web.Response:
    response = web.Response(
        status=err.status, body=error_body(err), headers={"Content-Type": "application/json"}
    )
    if err.retry_after is not None:
        response.headers["Retry-After"] = str(err.retry_after)
    return response


def from_http_exception(exc: web.HTTPException) -> GatewayError:
    """An aiohttp refusal raised inside a handler, in our terms. (Unknown routes and methods
    never get here: the catch-all route answers those.)"""
    if exc.status >= 500:
        return GatewayError(exc.reason or "internal error")
    err = InvalidRequest(exc.reason or "bad request")
    err.status = exc.status
    return err
