"""Admin routes. They answer only to admin credentials — the local admin token, or a signed-in
admin's access token — from loopback too, since a web page in the user's browser is a loopback
caller as well. A client key gets 403 here.

    POST /admin/auth/login            {"username", "password"} → access and refresh tokens
    POST /admin/auth/refresh          {"refresh_token"} → a new pair (the old refresh token is spent)
    GET  /admin/keys                  the client keys (id, label, prefix, last 4, tier, times)
    POST /admin/keys                  {"label", "tier"?, "limits"?} → the new key, shown this once
    POST /admin/keys/{id}/revoke      (or DELETE /admin/keys/{id})
    POST /admin/keys/{id}/limits      {"tier", "limits"?}
    GET  /admin/usage                 ?view=summary|by-model|…|timeseries|recent&since=&until=&bucket=
                                      (times in seconds: a recent row's ``at_s``, a timeseries row's
                                      ``start_s``)
    GET  /admin/audit                 ?after=SEQ&limit=N (each event's time is ``ts_ms``, milliseconds)
    GET  /admin/audit/verify          {"ok", "checked", "first_bad", "reason"}
    GET  /admin/audit/export          every event with its hashes, as JSON lines (for keeping, or
                                      ``python -m gateway audit verify --file``)
    GET  /v1/status                   providers, keys' health, limits, usage, where secrets are
    POST /v1/decide                   the routing dry run for a Chat Completions body (a Messages
                                      body with ``anthropic-version``: Claude Code's slots too)
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any

from aiohttp import web

from gateway.admin.control import Control
from gateway.api.body import checked, read_json
from gateway.api.entry import Entry
from gateway.api.reply import prefer_of, session_of
from gateway.api.router import PATH_TAIL, Handler, Router
from gateway.auth.admin_account import local_admin
from gateway.errors import InvalidRequest, RouteNotFound, Unauthorized
from gateway.formats import openai_chat
from gateway.formats.anthropic import checks
from gateway.formats.common import jsonbody
from gateway.formats.interfaces import ClientCall

_JSON = {"Content-Type": "application/json"}
ACTOR = web.RequestKey("actor", str)


def json_answer(value: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=jsonbody.encode(value), headers=_JSON)


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be a string", param=name)
    return value


def _number(query: Any, name: str, default: float) -> float:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidRequest(f"'{name}' must be a number", param=name) from None
    if not math.isfinite(value) or value < 0:
        raise InvalidRequest(f"'{name}' must be a number from 0", param=name)
    return value


class AdminRoutes:
    def __init__(self, control: Control, token: str | None, max_body_bytes: int, entry: Entry) -> None:
        self._control = control
        self._gateway = control.gateway
        state = control.state
        self._limit = max_body_bytes
        self._entry = entry
        self._token = token
        self.authorize: Callable[[Any], Awaitable[str]] = (
            state.admin.authorize if state is not None else self._local_only
        )

    async def _local_only(self, headers: Any) -> str:
        return local_admin(headers, self._token)

    def admin_route(self, handler: Handler, *, json_body: bool = False) -> Handler:
        """``handler`` behind the admin check (it finds the admin's name in ``request[ACTOR]``)."""

        async def checked_admin(request: web.BaseRequest) -> web.StreamResponse:
            request[ACTOR] = await self.authorize(request.headers)
            return await handler(request)

        return self._entry.wrap(checked_admin, json_body=json_body, identify=False)

    # --- status and routing ---------------------------------------------------------------

    async def status(self, request: web.BaseRequest) -> web.Response:
        return json_answer(self._control.status())

    async def decide(self, request: web.BaseRequest) -> web.Response:
        """The dry run of routing for a Chat Completions body (``model`` defaults to ``auto``), or a
        Messages body where the request says ``anthropic-version`` (as Claude Code's do, whose slots
        rules may name)."""
        body = await read_json(request, self._limit)
        if "model" not in body.obj:
            body = replace(body, obj={**body.obj, "model": "auto"})  # never sent: the bytes may differ
        call: ClientCall
        if (version := request.headers.get("anthropic-version")) is not None:
            beta = request.headers.get("anthropic-beta")
            call = checked(partial(checks.parse_request, needs_max_tokens=False, version=version, beta=beta), body)
        else:
            call = checked(openai_chat.parse_request, body)
        return json_answer(await self._gateway.decide(call, session_of(request), prefer_of(request)))

    # --- sign-in ---------------------------------------------------------------------------

    async def login(self, request: web.BaseRequest) -> web.Response:
        peer = request.remote or "unknown"
        identity = self._entry.identity
        if identity is not None:
            identity.throttle(peer)
        body = (await read_json(request, 16 * 1024)).obj
        name, password = text_field(body, "username") or "", text_field(body, "password") or ""
        try:
            pair = await self._control.login(name, password, peer)
        except Unauthorized:
            if identity is not None:
                identity.failed_attempt(peer)
            raise
        return json_answer(pair.public())

    async def refresh(self, request: web.BaseRequest) -> web.Response:
        body = (await read_json(request, 16 * 1024)).obj
        return json_answer((await self._control.refresh_login(text_field(body, "refresh_token") or "")).public())

    # --- client keys -----------------------------------------------------------------------

    async def list_keys(self, request: web.BaseRequest) -> web.Response:
        return json_answer({"keys": self._control.keys()})

    async def create_key(self, request: web.BaseRequest) -> web.Response:
        body = (await read_json(request, self._limit)).obj
        limits = body.get("limits") or {}
        if not isinstance(limits, dict):
            raise InvalidRequest("'limits' must be an object", param="limits")
        created = await self._control.create_key(
            text_field(body, "label") or "",
            text_field(body, "tier", required=False) or "standard",
            limits,
            request[ACTOR],
            text_field(body, "enforce_model", required=False),
        )
        return json_answer(created, status=201)

    async def key_action(self, request: web.BaseRequest) -> web.Response:
        key_id, _, action = request[PATH_TAIL].partition("/")
        if request.method == "DELETE" and not action:
            action = "revoke"
        if action == "revoke":
            await self._control.revoke_key(key_id, request[ACTOR])
            return json_answer({"id": key_id, "revoked": True})
        if action == "limits" and request.method == "POST":
            body = (await read_json(request, self._limit)).obj
            limits = body.get("limits") or {}
            if not isinstance(limits, dict):
                raise InvalidRequest("'limits' must be an object", param="limits")
            await self._control.set_key_limits(key_id, text_field(body, "tier") or "", limits, request[ACTOR])
            return json_answer({"id": key_id, "tier": body["tier"], "limits": limits})
        raise RouteNotFound(f"Unknown key action {request.method} {request.path[:120]}.")

    # --- usage and audit -------------------------------------------------------------------

    async def usage(self, request: web.BaseRequest) -> web.Response:
        query = request.query
        since = _number(query, "since", 0) if "since" in query else None
        until = _number(query, "until", 0) if "until" in query else None
        report = await self._control.usage(query.get("view", "summary"), since, until, query.get("bucket", "hour"))
        return json_answer(report)

    async def audit_events(self, request: web.BaseRequest) -> web.Response:
        after = int(_number(request.query, "after", 0))
        limit = int(_number(request.query, "limit", 100))
        return json_answer({"events": await self._control.audit_events(after, limit)})

    async def audit_export(self, request: web.BaseRequest) -> web.Response:
        lines = await self._control.audit_export()
        return web.Response(body=lines, headers={"Content-Type": "application/x-ndjson"})

    async def audit_verify(self, request: web.BaseRequest) -> web.Response:
        return json_answer(await self._control.audit_verify())

    def register(self, router: Router) -> None:
        wrap = self._entry.wrap
        router.add("GET", "/v1/status", self.admin_route(self.status))
        router.add("POST", "/v1/decide", self.admin_route(self.decide, json_body=True))
        router.add("POST", "/admin/auth/login", wrap(self.login, json_body=True, identify=False))
        router.add("POST", "/admin/auth/refresh", wrap(self.refresh, json_body=True, identify=False))
        router.add("GET", "/admin/keys", self.admin_route(self.list_keys))
        router.add("POST", "/admin/keys", self.admin_route(self.create_key, json_body=True))
        router.add_prefixed("POST", "/admin/keys/", self.admin_route(self.key_action, json_body=True))
        router.add_prefixed("DELETE", "/admin/keys/", self.admin_route(self.key_action))
        router.add("GET", "/admin/usage", self.admin_route(self.usage))
        router.add("GET", "/admin/audit", self.admin_route(self.audit_events))
        router.add("GET", "/admin/audit/verify", self.admin_route(self.audit_verify))
        router.add("GET", "/admin/audit/export", self.admin_route(self.audit_export))
