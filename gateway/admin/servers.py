"""Providers added and keys given the way a person does it in a window: a key (and, if it should
differ, an address) for a known provider, or a server of one's own — any OpenAI-compatible,
Anthropic-compatible or Ollama server — each *tried before it is saved*: its model list is asked
for with settings that exist nowhere yet. Saving goes through the same doors as any edit: a key to
the secret store (never into config.toml), the rest as settings changes, checked, applied and
audited, and put back when a step is refused.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypedDict
from urllib.parse import urlsplit

from gateway.admin.provider_keys import ProviderKeys
from gateway.admin.providers import ProviderTest
from gateway.admin.settings import SettingsEdits
from gateway.config.providers import providers_from
from gateway.errors import ConfigError, GatewayError, InvalidRequest, RouteNotFound
from gateway.pipeline.gateway import Gateway
from gateway.providers.catalog import load_catalog
from gateway.providers.registry import adapter
from gateway.providers.settings import SUBSCRIPTIONS, ProviderSettings
from gateway.routing.model_sync import failure_reason
from gateway.transport import Timeouts
from gateway.transport.addresses import check_base_url

SERVER_KINDS = ("openai-compatible", "anthropic", "ollama")  # the protocols a server of one's own may speak
_NOT_ID = re.compile(r"[^a-z0-9_-]+")


class ServerDefinition(TypedDict):
    name: str  # as the person calls it; its id is made from it
    base_url: str
    kind: str  # one of SERVER_KINDS
    key: str  # "" when it takes none


class ServerAdded(TypedDict):
    id: str
    applied: bool


def server_id(name: str, taken: Callable[[str], bool]) -> str:
    """An id for a server named ``name``: lowercase, starting with a letter, not ``taken``."""
    stem = _NOT_ID.sub("-", name.strip().lower()).strip("-_")[:24] or "server"
    if not stem[0].isalpha():
        stem = f"s-{stem}"[:24]
    candidate, n = stem, 2
    while taken(candidate):
        candidate, n = f"{stem}-{n}", n + 1
    return candidate


def checked_address(url: str) -> str:
    """The address as it will be used, or ``InvalidRequest`` in words a window shows."""
    url = url.strip()
    if url and "://" not in url:
        url = f"https://{url}"
    try:
        return check_base_url(url, plain_http_ok=True)
    except ValueError:
        raise InvalidRequest(
            "That address cannot be used: it should look like https://api.example.com/v1.", param="base_url"
        ) from None


def _checked_key(key: str) -> str:
    key = key.strip()
    if not key.isascii() or not key.isprintable() or " " in key:
        raise InvalidRequest("That key has characters no key has: paste it again, on its own.", param="key")
    return key


def server_table(definition: ServerDefinition) -> dict[str, Any]:
    """The ``[providers.<id>]`` table of a server: its kind, name and address; an http address is
    a server on this machine or the network (plain http allowed); with no key, none is sent."""
    if definition["kind"] not in SERVER_KINDS:
        raise InvalidRequest(f"Choose one of: {', '.join(SERVER_KINDS)}.", param="kind")
    if not definition["name"].strip():
        raise InvalidRequest("Give the server a name.", param="name")
    url = checked_address(definition["base_url"])
    table: dict[str, Any] = {"kind": definition["kind"], "name": definition["name"].strip(), "base_url": url}
    if urlsplit(url).scheme == "http":
        table["local"] = True
    if not definition["key"].strip():
        table["auth"] = "none"
    return table


def _settings(pid: str, table: dict[str, Any] | None, key: str) -> ProviderSettings:
    try:
        found = providers_from({pid: table} if table is not None else {}, {}, Timeouts(), {pid: (key,)} if key else {})
    except ConfigError as exc:
        raise InvalidRequest(f"Those settings cannot be used: {exc}", param="base_url") from None
    return next(s for s in found if s.id == pid)


class Servers:
    """``current``: the running pipeline; ``keys``, ``edits``: the provider-key and settings doors
    (none: the gateway keeps no state, so nothing can be saved)."""

    def __init__(self, current: Callable[[], Gateway], keys: ProviderKeys | None, edits: SettingsEdits) -> None:
        self._current = current
        self._keys = keys
        self._edits = edits

    def _needs_keys(self) -> ProviderKeys:
        if self._keys is None:
            raise RouteNotFound("This gateway runs without a database, so it cannot keep keys.")
        return self._keys

    async def _try(self, settings: ProviderSettings) -> ProviderTest:
        try:
            entries = await self._current().sync.ask_unsaved(adapter(settings))
        except (GatewayError, ValueError) as exc:
            message = getattr(exc, "message", None) or "its model list could not be read"
            return {"ok": False, "models": 0, "error": message, "reason": failure_reason(exc)}
        return {"ok": True, "models": len(entries), "error": None, "reason": None}

    def _key_settings(self, provider: str, key: str, base_url: str) -> ProviderSettings:
        """A known provider's settings as they would be with this key (and address)."""
        live = next((p.settings for p in self._current().providers if p.id == provider), None)
        url = checked_address(base_url) if base_url.strip() else ""
        if live is not None:
            return replace(live, keys=(key,), base_url=url or live.base_url)
        if provider not in load_catalog() or provider in SUBSCRIPTIONS:
            raise RouteNotFound(f"No provider {provider[:60]!r} takes keys here.")
        return _settings(provider, {"base_url": url} if url else None, key)

    async def try_key(self, provider: str, key: str, base_url: str = "") -> ProviderTest:
        """Ask ``provider`` for its models with ``key`` (at ``base_url`` when given), saving nothing."""
        return await self._try(self._key_settings(provider, _checked_key(key), base_url))

    async def save_key(self, provider: str, key: str, base_url: str, actor: str) -> bool:
        """Keep the key (in the secret store) and, when given, the address (in the settings);
        True when the running gateway uses them now."""
        self._key_settings(provider, _checked_key(key), base_url)  # a provider and address that can be used
        if not base_url.strip():
            return (await self._needs_keys().store(provider, (key.strip(),), actor))["applied"]
        return await self._with_key(provider, key.strip(), [("base_url", checked_address(base_url))], actor)

    async def _with_key(self, provider: str, key: str, table: list[tuple[str, Any]], actor: str) -> bool:
        """Keep ``key`` (none: "") and write the provider's ``table`` entries, applied together
        by the settings change (a table that names an address needs its key to be read; applied
        alone, the key would be tried at the catalog's address first). The keys stored before are
        put back when the change is refused (none: the new one is forgotten)."""
        keys = self._needs_keys()
        before = await keys.stored(provider)
        if key:
            await keys.store(provider, (key,), actor, apply=False)
        try:
            edit = await self._edits.change([(f"providers.{provider}", k, v) for k, v in table], actor)
        except BaseException:
            if key:
                undo = keys.store(provider, before, actor, apply=False) if before else keys.drop(provider, actor)
                await asyncio.shield(undo)
            raise
        return edit["applied"] or not edit["changed"]

    def _taken(self, pid: str) -> bool:
        return pid in load_catalog() or pid in SUBSCRIPTIONS or any(p.id == pid for p in self._current().providers)

    async def try_server(self, definition: ServerDefinition) -> ProviderTest:
        key = _checked_key(definition["key"]) if definition["key"].strip() else ""
        return await self._try(_settings(server_id(definition["name"], self._taken), server_table(definition), key))

    async def add_server(self, definition: ServerDefinition, actor: str) -> ServerAdded:
        """Save a server: its key to the secret store, its table to the settings."""
        table = server_table(definition)
        key = _checked_key(definition["key"]) if definition["key"].strip() else ""
        pid = server_id(definition["name"], self._taken)
        _settings(pid, table, key)  # readable as a start reads it, before anything is written
        return {"id": pid, "applied": await self._with_key(pid, key, list(table.items()), actor)}

    async def remove_server(self, provider: str, actor: str) -> bool:
        """Forget a server added here: its table, then its stored key; True when applied now."""
        if provider in load_catalog():
            raise InvalidRequest("That provider is not a server of your own: remove its key instead.", param="id")
        config = (await self._edits.read())["config"]
        table = config.get("providers", {}).get(provider)
        if not isinstance(table, dict):
            raise RouteNotFound(f"No server {provider[:60]!r} is in the settings.")
        edit = await self._edits.change([(f"providers.{provider}", k, None) for k in table], actor)
        dropped = await self._needs_keys().drop(provider, actor)
        return edit["applied"] and (dropped["applied"] or not dropped["changed"])
