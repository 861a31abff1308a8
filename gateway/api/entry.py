"""The pipeline's entry, wrapped around every route: a request id, the guard, who is calling
(pipeline step 3), CORS headers, ``Expect: 100-continue``, and the one place where failures
become JSON in the caller's protocol.

A request refused for its form (400, 413, 415: unreadable, invalid, too large, not JSON) is logged
at INFO with the reason, and on the routes whose answers the usage ledger counts it is counted
there too, unless the pipeline counted it already: a user whose tool "does not work" sees why.

Unknown paths and methods reach a catch-all that is wrapped the same way, so they too get JSON
404/405 answers with a request id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from aiohttp import web

from gateway.api.body import NAMED_MODEL
from gateway.api.client_tool import tool_of
from gateway.api.errors import OPENAI, ErrorShape, error_response, from_http_exception
from gateway.api.guard import Guard
from gateway.api.router import Handler, Router
from gateway.auth.callers import LOCAL, Caller
from gateway.auth.identity import Identity
from gateway.core.protocols import ProtocolId
from gateway.errors import (
    GatewayError,
    MethodNotAllowed,
    PayloadTooLarge,
    RequestRejected,
    RouteNotFound,
    UpstreamError,
)
from gateway.pipeline.accounting import Accountant
from gateway.pipeline.in_flight import InFlight

log = logging.getLogger("gateway.api")

REQUEST_ID = web.RequestKey("request_id", str)
CALLER = web.RequestKey("caller", Caller)

ROUTE_HEADER = "x-switchboard-route"
ATTEMPTS_HEADER = "x-switchboard-attempts"
DROPPED_HEADER = "x-switchboard-dropped"
_EXPOSED = ", ".join(("x-request-id", "retry-after", ROUTE_HEADER, ATTEMPTS_HEADER, DROPPED_HEADER))

_TOKEN_LIST = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~, -]*$")
_ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
_FORM_REFUSED = frozenset({400, 413, 415})


class Entry:
    def __init__(
        self,
        guard: Guard,
        new_request_id: Callable[[], str],
        accountant: Accountant,
        identity: Identity | None = None,
        in_flight: InFlight | None = None,
        stream_keep_alive: float = 15.0,
    ) -> None:
        """``identity``: the client-key policy; without one (no database) every caller is this
        computer's user, which only a loopback-only gateway may be. ``stream_keep_alive``: the
        seconds of silence after which a stream sends its protocol's keep-alive (``streaming``)."""
        self._guard = guard
        self._new_request_id = new_request_id
        self._accountant = accountant
        self.identity = identity
        self.in_flight = in_flight or InFlight()
        self.stream_keep_alive = stream_keep_alive

    def wrap(
        self,
        handler: Handler,
        *,
        json_body: bool = False,
        errors: ErrorShape | Callable[[web.BaseRequest], ErrorShape] = OPENAI,
        identify: bool = True,
        ledger: ProtocolId | None = None,
    ) -> Handler:
        """``handler`` behind the entry; ``errors`` is the shape its protocol gives failures (or
        picks it per request, where one path serves two protocols). ``identify``: the caller
        must pass the client-key policy (all but /health and the admin routes, which check the
        admin's own credentials). ``ledger``: the protocol the usage ledger counts the route's
        requests under (routes that answer from a model), so its refused requests are counted."""
        guard = self._guard
        new_request_id = self._new_request_id
        identity = self.identity if identify else None
        in_flight = self.in_flight

        async def entry(request: web.BaseRequest) -> web.StreamResponse:
            in_flight.count += 1
            request_id = new_request_id()
            request[REQUEST_ID] = request_id
            try:
                if (problem := guard.check(request)) is not None:
                    raise problem
                if request.method == "OPTIONS":  # a browser's preflight carries no credentials
                    response: web.StreamResponse = _preflight(request)
                else:
                    request[CALLER] = (
                        identity.caller(request.headers, request.remote) if identity is not None else LOCAL
                    )
                    if json_body:  # its body rules, now that the caller is known (counted when refused)
                        if (problem := guard.check_body(request)) is not None:
                            raise problem
                        if request.headers.get("Expect", "").lower() == "100-continue":
                            await _continue(request)
                    response = await handler(request)
            except GatewayError as err:
                response = self._refuse(request, err, errors, ledger)
            except web.HTTPException as exc:
                response = self._refuse(request, from_http_exception(exc), errors, ledger)
            except Exception:
                log.exception("%s: unexpected error", request_id)
                response = _answer_failure(request, GatewayError(f"internal error (request {request_id})"), errors)
            finally:  # also when the caller hangs up and the handler is cancelled
                in_flight.count -= 1
                problem = None  # raised, its traceback holds this frame: no cycle through the local
            if not response.prepared:
                self.stamp(request, response)
            return response

        return entry

    def _refuse(
        self,
        request: web.BaseRequest,
        err: GatewayError,
        errors: ErrorShape | Callable[[web.BaseRequest], ErrorShape],
        ledger: ProtocolId | None,
    ) -> web.Response:
        if isinstance(err, UpstreamError):
            log.warning("%s: %s (HTTP %d)", request[REQUEST_ID], err.message, err.status)
        elif isinstance(err, RequestRejected) and err.status in _FORM_REFUSED:
            path = request.path[:200]
            log.info(
                "%s: refused %s %r with HTTP %d: %s", request[REQUEST_ID], request.method, path, err.status, err.message
            )
            caller = request.get(CALLER)  # None when the guard refused it before the caller was known
            if ledger is not None and caller is not None and not err.counted:
                model, tool = request.get(NAMED_MODEL, ""), tool_of(request)
                self._accountant.refused(caller, ledger, model, request[REQUEST_ID], err, tool)
        else:
            log.debug("%s: refused %s %s: %s", request[REQUEST_ID], request.method, request.path, err.message)
        return _answer_failure(request, err, errors)

    def stamp(self, request: web.BaseRequest, response: web.StreamResponse) -> None:
        """Headers every answer carries; streams call this themselves before their first byte."""
        headers = response.headers
        headers["Server"] = "switchboard"
        headers["x-request-id"] = request[REQUEST_ID]
        origin = request.headers.get("Origin")
        if origin is not None and self._guard.origin_allowed(origin):
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = _EXPOSED
            headers.add("Vary", "Origin")

    @staticmethod
    def route_headers(route: str | None, attempts: int | None, dropped: tuple[str, ...] = ()) -> dict[str, str]:
        """The route that served (or last failed), the number of attempts, when routing ran, and
        what the translation for that route left out."""
        if attempts is None:
            return {}
        headers = {ATTEMPTS_HEADER: str(attempts)}
        if route is not None:
            headers[ROUTE_HEADER] = route
        if dropped:
            headers[DROPPED_HEADER] = ", ".join(dropped)
        return headers


async def _continue(request: web.BaseRequest) -> None:
    """Invite the body only now that the request has passed the guard (B22): an oversize or
    refused upload is answered before a byte of it is sent. Other routes never invite it."""
    if request.version >= (1, 1):
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0


def unknown_route(router: Router) -> Handler:
    """The catch-all: 405 naming the allowed methods when the path exists, 404 otherwise."""

    async def unknown(request: web.BaseRequest) -> web.StreamResponse:
        allowed = router.allowed(request.path)
        if not allowed:
            raise RouteNotFound(f"Unknown request URL: {request.method} {request.path[:200]}.")
        response = error_response(
            MethodNotAllowed(
                f"Method {request.method} is not allowed on {request.path[:200]}; "
                f"allowed: {', '.join(sorted(allowed))}."
            ),
            OPENAI,
        )
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    return unknown


def _answer_failure(
    request: web.BaseRequest, err: GatewayError, errors: ErrorShape | Callable[[web.BaseRequest], ErrorShape]
) -> web.Response:
    response = error_response(err, errors if isinstance(errors, ErrorShape) else errors(request))
    response.headers.update(Entry.route_headers(err.route, err.attempts))
    if isinstance(err, PayloadTooLarge) or (request.can_read_body and not request.content.is_eof()):
        response.force_close()  # the unread body must not be taken for the next request
    return response


def _preflight(request: web.BaseRequest) -> web.Response:
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
