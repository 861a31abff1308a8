"""The pipeline's entry: a request id, the guard, CORS, and one place where errors become JSON."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.api.errors import error_response, from_http_exception
from gateway.api.guard import Guard
from gateway.errors import GatewayError, PayloadTooLarge, UpstreamError

log = logging.getLogger("gateway.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID = web.RequestKey("request_id", str)

_TOKEN_LIST = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~, -]*$")
_ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"


def make_entry(guard: Guard, new_request_id: Callable[[], str]) -> Handler:
    """The middleware every request passes through first."""

    @web.middleware
    async def entry(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = new_request_id()
        request[REQUEST_ID] = request_id
        try:
            problem = guard.check(request)
            if problem is not None:
                raise problem
            if request.method == "OPTIONS":
                return _preflight(request)
            return await handler(request)
        except GatewayError as err:
            return _refuse(request, err)
        except web.HTTPException as exc:
            err = from_http_exception(exc, request.method, request.path)
            response = _refuse(request, err)
            if isinstance(exc, web.HTTPMethodNotAllowed):
                response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
            return response
        except Exception:
            log.exception("%s: unexpected error", request_id)
            return _refuse(request, GatewayError(f"internal error (request {request_id})"))

    return entry


def _refuse(request: web.Request, err: GatewayError) -> web.Response:
    if isinstance(err, UpstreamError):
        log.warning("%s: %s (HTTP %d)", request[REQUEST_ID], err.message, err.status)
    else:
        log.debug("%s: refused %s %s: %s", request[REQUEST_ID], request.method, request.path, err.message)
    response = error_response(err)
    if isinstance(err, PayloadTooLarge) or (request.can_read_body and not request.content.is_eof()):
        response.force_close()  # the unread body must not be taken for the next request
    return response


def _preflight(request: web.Request) -> web.Response:
    response = web.Response(status=204)
    if request.headers.get("Origin") is None:
        response.headers["Allow"] = _ALLOWED_METHODS
        return response
    response.headers["Access-Control-Allow-Methods"] = _ALLOWED_METHODS
    asked = request.headers.get("Access-Control-Request-Headers", "")
    if asked and _TOKEN_LIST.match(asked):
        response.headers["Access-Control-Allow-Headers"] = asked
    if request.headers.get("Access-Control-Request-Private-Network") == "true":
        response.headers["Access-Control-Allow-Private-Network"] = "true"  # listed origins only
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def make_on_prepare(guard: Guard) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers["Server"] = "switchboard"
        request_id = request.get(REQUEST_ID)
        if request_id is not None:
            headers["x-request-id"] = request_id
        origin = request.headers.get("Origin")
        if guard.origin_allowed(origin):
            headers["Access-Control-Allow-Origin"] = origin  # type: ignore[assignment]
            headers["Access-Control-Expose-Headers"] = "x-request-id, retry-after"
            headers.add("Vary", "Origin")

    return on_prepare


def make_expect_handler(guard: Guard) -> Callable[[web.Request], Awaitable[None]]:
    """Answer ``Expect: 100-continue`` only when the request would be accepted (B22), so an
    oversize or refused upload is answered before its body is sent."""

    async def expect(request: web.Request) -> None:
        if request.headers.get("Expect", "").lower() != "100-continue":
            return
        if guard.check(request) is None and request.version >= (1, 1):
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.writer.output_size = 0

    return expect
