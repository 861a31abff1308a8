"""Admin routes for subscription accounts and quota. Connecting an account is an admin action
(SECURITY.md S11): every route needs admin credentials, and a foreign Origin is refused before
that by the guard.

    GET    /admin/accounts                    every account: plan, state, risk label
    POST   /admin/accounts/import/codex       {"path"?, "sync"?} the Codex CLI's login
    POST   /admin/accounts/import/copilot     {"token"?} GH_COPILOT_TOKEN or an editor's login
    POST   /admin/accounts/login/codex        → {"flow", "authorize_url", "callback_port"}
    POST   /admin/accounts/login/copilot      → {"flow", "user_code", "verification_uri", ...}
    GET    /admin/accounts/login/{flow}       → {"status": pending|done|failed, ...}
    POST   /admin/accounts/login/{flow}/redirect  {"url"} the address a ChatGPT sign-in ended on
    DELETE /admin/accounts/{id}               removes it, and its tokens
    GET    /admin/quota                       every window of every account and key
    POST   /admin/quota/refresh               asks the accounts' usage endpoints now
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.api.admin_routes import ACTOR, AdminRoutes, json_answer, text_field
from gateway.api.body import read_json
from gateway.api.login_flows import LoginFlows
from gateway.api.router import PATH_TAIL, Router
from gateway.auth.account_book import AccountBook
from gateway.auth.accounts import RISK_NOTE
from gateway.auth.oauth.logins_on_disk import (
    ImportProblem,
    codex_auth_file,
    copilot_config_dir,
    read_codex_login,
    read_editor_login,
)
from gateway.errors import InvalidRequest, RouteNotFound
from gateway.service import Gateway

LIST_WAIT = 10.0  # seconds a new account's answer waits for its model list


class AccountRoutes:
    def __init__(self, gateway: Gateway, book: AccountBook, flows: LoginFlows, admin: AdminRoutes) -> None:
        self._gateway = gateway
        self._book = book
        self._flows = flows
        self._admin = admin
        self._env = flows.env
        self._home = flows.home

    async def listing(self, request: web.BaseRequest) -> web.Response:
        return json_answer({"accounts": self._book.listing(), "risk_note": RISK_NOTE})

    async def import_codex(self, request: web.BaseRequest) -> web.Response:
        body = (await read_json(request, 16 * 1024)).obj if request.body_exists else {}
        path_text = text_field(body, "path", required=False)
        path = Path(path_text).expanduser() if path_text else codex_auth_file(self._env, self._home)
        try:
            login = await asyncio.to_thread(read_codex_login, path)
        except ImportProblem as exc:
            raise InvalidRequest(str(exc), param="path") from None
        sync = body.get("sync") is True
        row = await self._book.connect_codex(login.tokens, "import:codex-cli", request[ACTOR], path if sync else None, login.account_id)
        await self._gateway.sync.listed("codex", LIST_WAIT)  # its models are there when the answer is
        return json_answer({"account": row.public()}, status=201)

    async def import_copilot(self, request: web.BaseRequest) -> web.Response:
        body = (await read_json(request, 16 * 1024)).obj if request.body_exists else {}
        token = text_field(body, "token", required=False)
        if token is None:
            folder = copilot_config_dir(self._env, self._home, sys.platform == "win32")
            try:
                login = await asyncio.to_thread(read_editor_login, self._env, folder)
            except ImportProblem as exc:
                raise InvalidRequest(str(exc), param="token") from None
            token, user, origin = login.token, login.user, "import:editor"
        else:
            user, origin = "", "import:token"
        row = await self._book.connect_copilot(token, origin, request[ACTOR], user)
        await self._gateway.sync.listed("copilot", LIST_WAIT)
        return json_answer({"account": row.public()}, status=201)

    async def login(self, request: web.BaseRequest) -> web.Response:
        kind = request[PATH_TAIL]
        if kind == "codex":
            flow = await self._flows.start_chatgpt(request[ACTOR])
        elif kind == "copilot":
            flow = await self._flows.start_copilot(request[ACTOR])
        else:
            flow_id, _, action = kind.partition("/")
            found = self._flows.get(flow_id)
            if found is None or action != "redirect":
                raise RouteNotFound(f"No sign-in {kind[:60]!r}; start one with codex or copilot.")
            body = (await read_json(request, 16 * 1024)).obj
            self._flows.paste_redirect(found, text_field(body, "url") or "")
            if found.task is not None:
                await asyncio.wait({found.task}, timeout=60)
            return json_answer(found.public())
        return json_answer(flow.public(), status=202)

    async def login_status(self, request: web.BaseRequest) -> web.Response:
        flow = self._flows.get(request[PATH_TAIL])
        if flow is None:
            raise RouteNotFound("No such sign-in (finished ones are forgotten after a while).")
        return json_answer(flow.public())

    async def remove(self, request: web.BaseRequest) -> web.Response:
        row = await self._book.remove(request[PATH_TAIL], request[ACTOR])
        if row is None:
            raise RouteNotFound(f"No account {request[PATH_TAIL][:60]!r}.")
        self._gateway.quotas.forget(row.label)
        return json_answer({"id": row.id, "removed": True})

    async def quota(self, request: web.BaseRequest) -> web.Response:
        now = self._gateway.timing().created
        return json_answer({"windows": [r.public(now) for r in self._gateway.quotas.records()]})

    async def refresh_quota(self, request: web.BaseRequest) -> web.Response:
        await self._book.poll_quotas()
        return await self.quota(request)

    def status(self) -> dict[str, Any]:
        """The accounts and every quota window, for /v1/status."""
        now = self._gateway.timing().created
        return {"accounts": self._book.listing(), "quota": [r.public(now) for r in self._gateway.quotas.records()]}

    def register(self, router: Router) -> None:
        self._admin.status_parts.append(self.status)
        admin = self._admin.admin_route
        router.add("GET", "/admin/accounts", admin(self.listing))
        router.add("POST", "/admin/accounts/import/codex", admin(self.import_codex, json_body=True))
        router.add("POST", "/admin/accounts/import/copilot", admin(self.import_copilot, json_body=True))
        router.add_prefixed("POST", "/admin/accounts/login/", admin(self.login, json_body=True))
        router.add_prefixed("GET", "/admin/accounts/login/", admin(self.login_status))
        router.add_prefixed("DELETE", "/admin/accounts/", admin(self.remove))
        router.add("GET", "/admin/quota", admin(self.quota))
        router.add("POST", "/admin/quota/refresh", admin(self.refresh_quota, json_body=True))
