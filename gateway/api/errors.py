"""Failures rendered as HTTP responses, always JSON in the caller's protocol, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from gateway.errors import GatewayError, InvalidRequest
from gateway.formats.anthropic import errors as anthropic_errors
from gateway.formats.ollama import errors as ollama_errors
from gateway.formats.openai import errors as openai_errors


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """How one protocol writes an error as a whole answer. (Inside a stream the stream's own
    relay writes it: it knows the state the client's stream is in.)"""

    body: Callable[[GatewayError], bytes]


OPENAI = ErrorShape(openai_errors.error_body)
ANTHROPIC = ErrorShape(anthropic_errors.error_body)
OLLAMA = ErrorShape(ollama_errors.error_body)


def error_response(err: GatewayError, shape: ErrorShape) -> web.Response:
    response = web.Response(status=err.status, body=shape.body(err), headers={"Content-Type": "application/json"})
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
