"""Admin routes for subscription accounts and quota. Connecting an account is an admin action
(SECURITY.md S11): every route needs admin credentials, and a foreign Origin is refused before
that by the guard.

    GET    /admin/accounts                    every account: plan, state, risk label
    POST   /admin/accounts/import/codex       {"path"?, "sync"?} the Codex CLI's login
    POST   /admin/accounts/import/copilot     {"token"?, "host"?} GH_COPILOT_TOKEN or an editor's login
                                         (for the configured GitHub's host, or ``host``)
    POST   /admin/accounts/login/codex        → {"flow", "authorize_url", "callback_port"}
    POST   /admin/accounts/login/copilot      → 403: GitHub's user code is shown only to the person at
                                         the machine (S36): the app, or 'accounts login copilot'
    GET    /admin/accounts/login/{flow}       → {"status": pending|done|failed, ...}
    POST   /admin/accounts/login/{flow}/redirect  {"url"} the address a ChatGPT sign-in ended on
    DELETE /admin/accounts/{id}               removes it, and its tokens
    GET    /admin/quota                       every window of every account and key
    POST   /admin/quota/refresh               asks the accounts' usage endpoints now
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from gateway.admin.control import Control
from gateway.api.admin_routes import ACTOR, AdminRoutes, json_answer, text_field
from gateway.api.body import read_json
from gateway.api.router import PATH_TAIL, Router
from gateway.errors import Forbidden, RouteNotFound

COPILOT_IN_PERSON = (
    "Signing in with GitHub Copilot shows a code that only the person at the gateway's machine may see: "
    "use 'Sign in with GitHub Copilot' in the Switchboard app, or run 'python -m gateway accounts login copilot' "
    "there. An existing login can be imported here: POST /admin/accounts/import/copilot."
)


class AccountRoutes:
    def __init__(self, control: Control, admin: AdminRoutes) -> None:
        self._control = control
        self._admin = admin

    async def listing(self, request: web.BaseRequest) -> web.Response:
        return json_answer(self._control.accounts())

    async def import_codex(self, request: web.BaseRequest) -> web.Response:
        body = (await read_json(request, 16 * 1024)).obj if request.body_exists else {}
        path_text = text_field(body, "path", required=False)
        path = Path(path_text).expanduser() if path_text else None
        account = await self._control.import_codex(request[ACTOR], path, sync=body.get("sync") is True)
        return json_answer({"account": account}, status=201)

    async def import_copilot(self, request: web.BaseRequest) -> web.Response:
        body = (await read_json(request, 16 * 1024)).obj if request.body_exists else {}
        token, host = text_field(body, "token", required=False), text_field(body, "host", required=False)
        account = await self._control.import_copilot(request[ACTOR], token, host)
        return json_answer({"account": account}, status=201)

    async def login(self, request: web.BaseRequest) -> web.Response:
        kind = request[PATH_TAIL]
        if kind == "copilot":
            raise Forbidden(COPILOT_IN_PERSON)
        if kind == "codex":
            flow = await self._control.sign_in(kind, request[ACTOR])
            return json_answer(flow.public(), status=202)
        flow_id, _, action = kind.partition("/")
        found = self._control.flow(flow_id)
        if found is None or action != "redirect":
            raise RouteNotFound(f"No sign-in {kind[:60]!r}; start one with codex or copilot.")
        body = (await read_json(request, 16 * 1024)).obj
        self._control.paste_redirect(found, text_field(body, "url") or "")
        if found.task is not None:
            await asyncio.wait({found.task}, timeout=60)
        return json_answer(found.public())

    async def login_status(self, request: web.BaseRequest) -> web.Response:
        flow = self._control.flow(request[PATH_TAIL])
        if flow is None:
            raise RouteNotFound("No such sign-in (finished ones are forgotten after a while).")
        return json_answer(flow.public())

    async def remove(self, request: web.BaseRequest) -> web.Response:
        if not await self._control.remove_account(request[PATH_TAIL], request[ACTOR]):
            raise RouteNotFound(f"No account {request[PATH_TAIL][:60]!r}.")
        return json_answer({"id": request[PATH_TAIL], "removed": True})

    async def quota(self, request: web.BaseRequest) -> web.Response:
        return json_answer({"windows": self._control.quota()})

    async def refresh_quota(self, request: web.BaseRequest) -> web.Response:
        return json_answer({"windows": await self._control.refresh_quota()})

    def register(self, router: Router) -> None:
        admin = self._admin.admin_route
        router.add("GET", "/admin/accounts", admin(self.listing))
        router.add("POST", "/admin/accounts/import/codex", admin(self.import_codex, json_body=True))
        router.add("POST", "/admin/accounts/import/copilot", admin(self.import_copilot, json_body=True))
        router.add_prefixed("POST", "/admin/accounts/login/", admin(self.login, json_body=True))
        router.add_prefixed("GET", "/admin/accounts/login/", admin(self.login_status))
        router.add_prefixed("DELETE", "/admin/accounts/", admin(self.remove))
        router.add("GET", "/admin/quota", admin(self.quota))
        router.add("POST", "/admin/quota/refresh", admin(self.refresh_quota, json_body=True))
