"""Admin routes for what the gateway is set up with: its providers and their keys, and the
settings file. What the app's Providers and Settings pages do, over HTTP for a headless gateway,
through the same admin doors: a change is checked as a start reads it, applied to the running
gateway (``"applied": true``, ``"applies": "now"``) or refused with the reason, and audited.

    GET    /admin/providers               every catalog and configured provider: on, address, models
    POST   /admin/providers/rescan        asks every local model server for its models now
    POST   /admin/providers/{id}/test     asks one provider for its model list now
    PUT    /admin/providers/{id}/keys     {"keys": [...]} kept in the secret store (never answered back)
    DELETE /admin/providers/{id}/keys     forgets them (refused when the gateway could not start so)
    GET    /admin/settings                {"file", "config"}: the config file as written
    PATCH  /admin/settings                {"changes": [{"table", "key", "value"}]}; a null value
                                          removes the key; refused whole when the result would
                                          not start
    PUT    /admin/proxy                   {"table", "address", "user", "password"}: a proxy setting
                                          ("network", "subscriptions" or "providers.<id>"; address
                                          null, "direct" or the proxy's), its password kept in the
                                          secret store, never the file (``gateway.admin.proxies``)
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from gateway.admin.control import Control
from gateway.api.admin_routes import ACTOR, AdminRoutes, json_answer
from gateway.api.body import read_json
from gateway.api.router import PATH_TAIL, Router
from gateway.config.editing import Change
from gateway.errors import InvalidRequest, RouteNotFound

_TABLE = re.compile(r"[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_CHANGES = 100
_BODY_LIMIT = 64 * 1024


def _toml_value(value: Any, where: str) -> None:
    """TOML has no null: only a change's own value may be null (it removes the key)."""
    if value is None:
        raise InvalidRequest(f"{where}: null is allowed only as a change's whole value", param="changes")
    if isinstance(value, list):
        for item in value:
            _toml_value(item, where)
    elif isinstance(value, dict):
        for name, item in value.items():
            _toml_value(item, f"{where}.{name}")


def parse_changes(body: dict[str, Any]) -> list[Change]:
    changes = body.get("changes")
    if not isinstance(changes, list) or not 0 < len(changes) <= _MAX_CHANGES:
        raise InvalidRequest(f"'changes' must be a list of 1 to {_MAX_CHANGES} changes", param="changes")
    out: list[Change] = []
    for change in changes:
        if not isinstance(change, dict) or set(change) - {"table", "key", "value"}:
            raise InvalidRequest('each change is {"table", "key", "value"}', param="changes")
        table, key, value = change.get("table"), change.get("key"), change.get("value")
        if not isinstance(table, str) or not _TABLE.fullmatch(table):
            raise InvalidRequest('\'table\' names a table such as "server" or "providers.ollama"', param="changes")
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidRequest("'key' is a setting's name such as \"port\"", param="changes")
        if value is not None:
            _toml_value(value, f"{table}.{key}")
        out.append((table, key, value))
    return out


class ConfigRoutes:
    def __init__(self, control: Control, admin: AdminRoutes) -> None:
        self._control = control
        self._admin = admin

    async def providers(self, request: web.BaseRequest) -> web.Response:
        return json_answer({"providers": await self._control.providers()})

    async def rescan(self, request: web.BaseRequest) -> web.Response:
        return json_answer({"providers": await self._control.rescan_local()})

    async def provider_action(self, request: web.BaseRequest) -> web.Response:
        provider, _, action = request[PATH_TAIL].partition("/")
        control = self._control
        if action == "test" and request.method == "POST":
            return json_answer(await control.test_provider(provider))
        if action == "keys" and request.method == "PUT":
            keys = (await read_json(request, _BODY_LIMIT)).obj.get("keys")
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise InvalidRequest("'keys' must be a list of strings", param="keys")
            stored = await control.store_provider_keys(provider, tuple(k.strip() for k in keys), request[ACTOR])
            return json_answer(stored)
        if action == "keys" and request.method == "DELETE":
            dropped = await control.drop_provider_keys(provider, request[ACTOR])
            if not dropped["changed"]:
                raise RouteNotFound(f"No stored keys for {provider[:60]!r}.")
            return json_answer({**dropped, "removed": True})
        raise RouteNotFound(f"Unknown provider action {request.method} {request.path[:120]}.")

    async def settings(self, request: web.BaseRequest) -> web.Response:
        return json_answer(await self._control.settings())

    async def change_settings(self, request: web.BaseRequest) -> web.Response:
        changes = parse_changes((await read_json(request, _BODY_LIMIT)).obj)
        return json_answer(await self._control.change_settings(changes, request[ACTOR]))

    async def set_proxy(self, request: web.BaseRequest) -> web.Response:
        body = (await read_json(request, _BODY_LIMIT)).obj
        table, address = body.get("table"), body.get("address")
        user, password = body.get("user", ""), body.get("password", "")
        if not isinstance(table, str) or not (address is None or isinstance(address, str)):
            raise InvalidRequest('a proxy is {"table", "address", "user", "password"}', param="table")
        if not isinstance(user, str) or not isinstance(password, str):
            raise InvalidRequest("'user' and 'password' are text", param="user")
        return json_answer(await self._control.set_proxy(table, address, user, password, request[ACTOR]))

    def register(self, router: Router) -> None:
        admin = self._admin.admin_route
        router.add("GET", "/admin/providers", admin(self.providers))
        router.add("POST", "/admin/providers/rescan", admin(self.rescan, json_body=True))
        router.add_prefixed("POST", "/admin/providers/", admin(self.provider_action, json_body=True))
        router.add_prefixed("PUT", "/admin/providers/", admin(self.provider_action, json_body=True))
        router.add_prefixed("DELETE", "/admin/providers/", admin(self.provider_action))
        router.add("GET", "/admin/settings", admin(self.settings))
        router.add("PATCH", "/admin/settings", admin(self.change_settings, json_body=True))
        router.add("PUT", "/admin/proxy", admin(self.set_proxy, json_body=True))
