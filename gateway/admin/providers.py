"""Providers as the Providers and Local models pages (and ``/admin/providers``) show them: every
catalog provider and every configured one, whether it is on, its address, how many keys it has and
from where, its models; a Test that asks one for its models now, and a rescan of local servers.
(The subscriptions are under accounts.)"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TypedDict

from gateway.errors import RouteNotFound
from gateway.pipeline.gateway import Gateway
from gateway.providers.base import ChatProvider
from gateway.providers.catalog import load_catalog
from gateway.providers.settings import SUBSCRIPTIONS, ProviderSettings


class ProviderRow(TypedDict):
    id: str
    name: str
    local: bool
    url_path: str  # what a server's root address needs after it (a local server's "/v1")
    configured: bool
    looked_for: bool  # on its usual port, used while it answers
    base_url: str
    keys: int
    source: str | None  # where its settings came from: "config", "environment", "catalog"…
    keys_from: list[str]  # where its keys come from: "environment", "stored" (the secret store), both or none
    custom: bool  # a server added by its settings, not one of the catalog's
    models: list[str]
    error: str | None  # why its model list could not be read, last time


class ProviderTest(TypedDict):
    ok: bool
    models: int
    error: str | None  # the gateway's message, for Details
    reason: str | None  # why it failed, named as the router names it ("unreachable", "credential_refused"…)


def _row(
    pid: str,
    name: str,
    local: bool,
    settings: ProviderSettings | None,
    url: str,
    models: dict[str, list[str]],
    error: str | None,
    stored: tuple[str, ...],
    url_path: str = "",
    custom: bool = False,
) -> ProviderRow:
    keys = settings.keys if settings is not None else ()
    keys_from = (["environment"] if any(k not in stored for k in keys) else []) + (["stored"] if stored else [])
    return {
        "id": pid,
        "name": name,
        "local": local,
        "url_path": url_path,
        "configured": settings is not None,
        "looked_for": settings is not None and settings.probe,
        "base_url": settings.base_url if settings is not None else url,
        "keys": len(settings.keys) if settings is not None else 0,
        "source": settings.source if settings is not None else None,
        "keys_from": keys_from,
        "custom": custom,
        "models": models.get(pid, []),
        "error": error,
    }


class Providers:
    """``current``: the running pipeline (read at each call: a reconfigure swaps it); ``stored``:
    the keys kept in the secret store, by provider (blocking; none without a store)."""

    def __init__(
        self, current: Callable[[], Gateway], stored: Callable[[], Mapping[str, tuple[str, ...]]] | None = None
    ) -> None:
        self._current = current
        self._stored = stored

    @property
    def _gateway(self) -> Gateway:
        return self._current()

    def known(self, provider: str) -> bool:
        """A provider keys may be kept for: the catalog's, and configured ones (not subscriptions)."""
        return provider in load_catalog() or any(
            p.id == provider for p in self._gateway.providers if p.id not in SUBSCRIPTIONS
        )

    async def listing(self) -> list[ProviderRow]:
        gateway = self._gateway
        models: dict[str, list[str]] = {}
        for entry in await gateway.models():
            models.setdefault(entry.provider, []).append(entry.id)
        live = {p.id: p.settings for p in gateway.providers if p.id not in SUBSCRIPTIONS}
        stored = await asyncio.to_thread(self._stored) if self._stored is not None else {}
        out = []
        for row in load_catalog().values():
            settings = live.pop(row.id, None)
            url = row.base_url or (row.default_url + row.url_path if row.default_url else "")
            error = gateway.sync.last_error(row.id)
            path = row.url_path if row.local else ""
            out.append(_row(row.id, row.name, row.local, settings, url, models, error, stored.get(row.id, ()), path))
        out.extend(
            _row(
                s.id,
                s.name,
                s.local,
                s,
                s.base_url,
                models,
                gateway.sync.last_error(s.id),
                stored.get(s.id, ()),
                "",
                True,
            )
            for s in live.values()
        )
        return out

    async def test(self, provider_id: str) -> ProviderTest:
        """Ask the provider for its model list now: the probe behind a "Test" button. When it
        answers, the rests its keys were given (cooldowns, benches, its breaker) are lifted."""
        gateway = self._gateway
        found = [p for p in gateway.providers if p.id == provider_id]
        if not found:
            raise RouteNotFound(f"{provider_id[:60]!r} is not configured: give it a key (or a URL) first.")
        ok = await gateway.sync.refresh(found)
        _forgive_answering(gateway, found)
        listed = [e.id for e in await gateway.models() if e.provider == provider_id]
        if ok:
            return {"ok": True, "models": len(listed), "error": None, "reason": None}
        return {
            "ok": False,
            "models": len(listed),
            "error": gateway.sync.last_error(provider_id),
            "reason": gateway.sync.last_reason(provider_id),
        }

    async def rescan_local(self) -> list[ProviderRow]:
        """Ask every local model server for its models now (one started since is found at once);
        those that answer may serve again at once."""
        gateway = self._gateway
        local = [p for p in gateway.providers if p.settings.local]
        await gateway.sync.refresh(local)
        _forgive_answering(gateway, local)
        return await self.listing()


def _forgive_answering(gateway: Gateway, providers: list[ChatProvider]) -> None:
    """On the pipeline that asked them (a settings change meanwhile may have swapped in another,
    without them)."""
    for provider in providers:
        if gateway.sync.last_error(provider.id) is None:
            gateway.forgive(provider.id)
