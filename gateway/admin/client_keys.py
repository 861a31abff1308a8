"""Client keys, the keys the gateway issues to its callers: listed (never the key), created (the
whole key in the answer, this once), given other limits, revoked. Each change is audited by the
key table itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.admin.state import State
from gateway.errors import RouteNotFound
from gateway.store.keys import ClientKey


class CreatedKey(ClientKey):
    key: str  # the whole key: shown this once, never again


class ClientKeys:
    def __init__(self, state: State) -> None:
        self._state = state

    def listing(self) -> list[ClientKey]:
        return self._state.keys.listing()

    async def create(
        self, label: str, tier: str, limits: Mapping[str, Any], actor: str, enforce_model: str | None = None
    ) -> CreatedKey:
        """``enforce_model``: the model serving the key's every chat request, whatever it names."""
        key, record = await self._state.keys.create(label, tier, limits, actor, enforce_model)
        return CreatedKey(**record.public(), key=key)

    async def set_limits(self, key_id: str, tier: str, limits: Mapping[str, Any], actor: str) -> None:
        if not await self._state.keys.set_limits(key_id, tier, limits, actor):
            raise _no_key(key_id)

    async def revoke(self, key_id: str, actor: str) -> None:
        if not await self._state.keys.revoke(key_id, actor):
            raise _no_key(key_id)


def _no_key(key_id: str) -> RouteNotFound:
    return RouteNotFound(f"No live key with id {key_id[:40]!r}.")
