"""Admin routes: they answer only to the local admin token (``Authorization: Bearer``), from
loopback too, since a web page in the user's browser is a loopback caller as well."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from gateway.api.body import checked, read_json
from gateway.api.entry import Entry
from gateway.api.reply import session_of
from gateway.api.router import Handler, Router
from gateway.auth import admin_token
from gateway.errors import Unauthorized
from gateway.formats import jsonbody, openai_chat
from gateway.service import Gateway

_JSON = {"Content-Type": "application/json"}


class AdminRoutes:
    def __init__(self, gateway: Gateway, token: str | None, max_body_bytes: int, entry: Entry) -> None:
        self._gateway = gateway
        self._limit = max_body_bytes
        self._token = token
        self._entry = entry

    def _check(self, request: web.BaseRequest) -> None:
        auth = request.headers.get("Authorization", "")
        presented = auth[7:] if auth[:7].lower() == "bearer " else None
        if self._token is None or not admin_token.matches(presented, self._token):
            raise Unauthorized("This is an admin route: send the admin token as 'Authorization: Bearer <token>'.")

    def _admin(self, handler: Handler, *, json_body: bool = False) -> Handler:
        async def checked(request: web.BaseRequest) -> web.StreamResponse:
            self._check(request)
            return await handler(request)

        return self._entry.wrap(checked, json_body=json_body)

    async def status(self, request: web.BaseRequest) -> web.Response:
        return web.Response(body=jsonbody.encode(self._gateway.status()), headers=_JSON)

    async def decide(self, request: web.BaseRequest) -> web.Response:
        """The dry run of routing for a Chat Completions body (``model`` defaults to ``auto``)."""
        body = await read_json(request, self._limit)
        if "model" not in body.obj:
            body = replace(body, obj={**body.obj, "model": "auto"})  # never sent: the bytes may differ
        call = checked(openai_chat.parse_request, body)
        return web.Response(body=jsonbody.encode(await self._gateway.decide(call, session_of(request))), headers=_JSON)

    def register(self, router: Router) -> None:
        router.add("GET", "/v1/status", self._admin(self.status))
        router.add("POST", "/v1/decide", self._admin(self.decide, json_body=True))
