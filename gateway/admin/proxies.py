"""A proxy setting with its credentials, the same for every front-end: the address goes to the
settings file with the user name alone, the password to the secret store, never to the file, a
log or the audit log. The password is stored first (so the apply that follows reaches the proxy
with it) and put back as it was when the settings are refused; a new password for an address the
file names already is applied on its own; a password no proxy in the file names any more is
forgotten. Audited as a settings edit (the address with the user
name) and, when a password was stored, ``proxy.password_stored`` naming the setting and address.
"""

from __future__ import annotations

import asyncio
import re

from gateway.admin.applying import Apply, applies, apply_or_undo, audited, carried_through
from gateway.admin.settings import SettingsEdit, SettingsEdits
from gateway.admin.state import State
from gateway.errors import InvalidRequest, RouteNotFound
from gateway.store.proxy_passwords import entry_name, entry_names, file_address
from gateway.store.secrets import SecretStore
from gateway.transport.proxies import DIRECT, Proxy, parse_proxy

# Where a proxy may be set: for every upstream, one provider, the signed-in accounts, or one of
# them (its label quoted: it holds dots).
_TABLE = re.compile(r'network|subscriptions|providers\.[A-Za-z0-9_-]+|accounts\."[^"\\\n]+"')
NO_SECRETS = "A proxy's password is kept in the secret store, and this gateway runs without one."


def _address(address: str, user: str, password: str) -> tuple[str, Proxy | None, str]:
    """(what the file keeps, the proxy, its password); ``InvalidRequest`` for an address that is
    none, in words that never repeat a password."""
    try:
        proxy = parse_proxy(address)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="address") from None
    if proxy == DIRECT:
        return DIRECT, None, ""
    if user.strip():
        proxy = Proxy(proxy.scheme, proxy.host, proxy.port, user.strip())
    return file_address(proxy), proxy, password or proxy.password


class Proxies:
    """``state``: its secret store keeps the passwords (none: a proxy without one only);
    ``edits``: how the address reaches the file; ``apply``, ``one_at_a_time``: as for settings
    edits (shared with them)."""

    def __init__(
        self, state: State | None, edits: SettingsEdits, apply: Apply | None, one_at_a_time: asyncio.Lock
    ) -> None:
        self._state = state
        self._edits = edits
        self._apply = apply
        self._one_at_a_time = one_at_a_time

    async def set(self, table: str, address: str | None, user: str, password: str, actor: str) -> SettingsEdit:
        """``table``: "network", "subscriptions", "providers.<id>" or 'accounts."<label>"'.
        ``address``: None to follow what comes before it (the environment's, for ``network``),
        "direct", or the proxy's address. ``password``: empty keeps the one stored for the address and user, if any."""
        if not _TABLE.fullmatch(table):
            raise InvalidRequest(f"{table!r} takes no proxy", param="table")
        value, proxy, secret = _address(address, user, password) if address is not None else (None, None, "")
        named = await self._named()
        if not secret or proxy is None or not proxy.user:
            edit = await self._edits.change([(table, "proxy", value)], actor)
        elif self._state is None:
            raise RouteNotFound(NO_SECRETS)
        else:
            edit = await carried_through(self._with_password(self._state, table, proxy, secret, actor))
        if self._state is not None and (gone := named - await self._named()):
            await asyncio.to_thread(_forget, self._state.secrets, gone)
        return edit

    async def _named(self) -> frozenset[str]:
        """The password entries the settings file's proxies name: one it names no more is forgotten."""
        found = self._edits.file
        return frozenset(await asyncio.to_thread(entry_names, found.path) if found is not None else ())

    async def _with_password(self, state: State, table: str, proxy: Proxy, secret: str, actor: str) -> SettingsEdit:
        store, name = state.secrets, entry_name(proxy)
        before = await asyncio.to_thread(store.get, name)
        await asyncio.to_thread(store.set, name, secret)
        put_back = lambda: _keep(store, name, before)  # noqa: E731
        try:
            edit = await self._edits.change([(table, "proxy", file_address(proxy))], actor)
            if not edit["changed"] and before != secret:  # the file says so already: the password alone is new
                async with self._one_at_a_time:
                    applied = await apply_or_undo(self._apply, put_back, "password")
                edit = {"changed": True, "applied": applied, "applies": applies(applied)}
        except BaseException:
            await asyncio.to_thread(put_back)
            raise
        await audited(
            state, actor, "proxy.password_stored", {"setting": f"{table}.proxy", "proxy": file_address(proxy)}
        )
        return edit


def _forget(store: SecretStore, names: frozenset[str]) -> None:
    for name in names:
        store.delete(name)


def _keep(store: SecretStore, name: str, value: str | None) -> None:
    if value is None:
        store.delete(name)
    else:
        store.set(name, value)
