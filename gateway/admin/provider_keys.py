"""Provider API keys kept in the secret store, the same for every front-end. A removal is checked
the way a start reads the settings (a provider given its own address in the config file needs a
key, so removing its stored one may leave a gateway that cannot start): refused with the reason
and the keys as they were. A change is applied to the running gateway (or put back and refused)
and audited by provider id (never the keys). Keys stored are tried at once: whatever rests the
provider's keys were given before (a refused key benched for an hour) are lifted, even when the
same key was saved again (its account put right at the provider).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypedDict

from gateway.admin.applying import Apply, applies, apply_or_undo, audited, carried_through
from gateway.admin.state import State
from gateway.errors import ConfigError, InvalidRequest
from gateway.pipeline.gateway import Gateway
from gateway.providers.catalog import load_catalog
from gateway.store.provider_keys import remove_keys, set_keys, stored_keys
from gateway.store.secrets import SecretStore, described


class KeyChange(TypedDict):
    provider: str
    keys: int  # how many are stored for it now
    stored_in: str  # where, in words
    changed: bool  # False: none were stored to remove
    applied: bool  # the running gateway uses them now
    applies: str


def _keep(store: SecretStore, provider: str, keys: tuple[str, ...] | None) -> None:
    """Store exactly ``keys`` for the provider (None: none)."""
    if keys:
        set_keys(store, provider, keys)
    else:
        remove_keys(store, provider)


class ProviderKeys:
    """``check``: reads the settings as a start would and raises ``ConfigError`` when it could not
    (blocking; none: nothing to check against). ``apply``, ``one_at_a_time``: as for settings
    edits. ``current``: the pipeline serving now, whose rests a stored key lifts."""

    def __init__(
        self,
        state: State,
        check: Callable[[], object] | None,
        apply: Apply | None,
        one_at_a_time: asyncio.Lock | None = None,
        current: Callable[[], Gateway] | None = None,
    ) -> None:
        self._state = state
        self._check = check
        self._apply = apply
        self._one_at_a_time = one_at_a_time or asyncio.Lock()
        self._current = current

    async def store(self, provider: str, keys: tuple[str, ...], actor: str, *, apply: bool = True) -> KeyChange:
        """Keep ``keys`` for the provider. ``apply`` False: kept only, for a settings change made
        next to apply with them (an address of its own, which needs a key to be read)."""
        if not keys or any(not k.isascii() or not k.isprintable() or " " in k for k in keys):
            raise InvalidRequest("give one key per line, printable ASCII without spaces", param="keys")
        return await carried_through(self._store(provider, keys, actor, apply))

    async def _store(self, provider: str, keys: tuple[str, ...], actor: str, apply: bool) -> KeyChange:
        applied = await self._swap(provider, keys, apply)
        if applied and self._current is not None:  # on the pipeline the apply swapped in
            gateway = self._current()
            if any(p.id == provider for p in gateway.providers):
                gateway.forgive(provider)
        await audited(self._state, actor, "provider.key_stored", {"provider": provider, "keys": len(keys)})
        return self._answer(provider, len(keys), True, applied)

    async def stored(self, provider: str) -> tuple[str, ...]:
        """The provider's keys in the secret store now (none: ``()``)."""
        return await asyncio.to_thread(lambda: stored_keys(self._state.secrets).get(provider, ()))

    async def drop(self, provider: str, actor: str) -> KeyChange:
        """Forget the provider's stored keys (``changed`` False when none were stored)."""
        return await carried_through(self._drop(provider, actor))

    async def _drop(self, provider: str, actor: str) -> KeyChange:
        if not await asyncio.to_thread(lambda: provider in stored_keys(self._state.secrets)):
            await asyncio.to_thread(remove_keys, self._state.secrets, provider)  # an entry the index lost
            return self._answer(provider, 0, False, False)
        applied = await self._swap(provider, None)
        await audited(self._state, actor, "provider.key_removed", {"provider": provider})
        return self._answer(provider, 0, True, applied)

    async def _swap(self, provider: str, keys: tuple[str, ...] | None, apply: bool = True) -> bool:
        store = self._state.secrets

        def swap() -> tuple[str, ...] | None:
            before = stored_keys(store).get(provider)
            _keep(store, provider, keys)
            if keys is None:  # only a removal can leave a start without a key
                self._left_startable(provider, before)
            return before

        async with self._one_at_a_time:
            before = await asyncio.to_thread(swap)
            return await apply_or_undo(self._apply if apply else None, lambda: _keep(store, provider, before), "keys")

    def _left_startable(self, provider: str, before: tuple[str, ...] | None) -> None:
        """A start still reads the settings with the provider's keys removed; when it could not, the
        keys are put back and the removal refused, in words for a window (the loader's reason names
        environment variables and commands; it is kept as the refusal's cause for a command line)."""
        if self._check is None:
            return
        try:
            self._check()
        except ConfigError as exc:
            cause = exc
        else:
            return
        _keep(self._state.secrets, provider, before)
        try:
            self._check()  # with the keys back: did the removal do it, or were the settings unreadable already?
        except ConfigError as exc:
            raise InvalidRequest(
                f"Not removed, so nothing changed: the settings cannot be read: {exc}",
                param="keys",
                fix=exc.fix,
                detail=exc.detail,
            ) from exc
        entry = load_catalog().get(provider)
        name = entry.name if entry is not None else provider
        raise InvalidRequest(
            f"Not removed, so nothing changed: {name} has settings of its own and would be left without a key.",
            param="keys",
            detail=cause.detail,
        ) from cause

    def _answer(self, provider: str, count: int, changed: bool, applied: bool) -> KeyChange:
        where = described(self._state.secrets.kind, self._state.secrets.where)
        return {
            "provider": provider,
            "keys": count,
            "stored_in": where,
            "changed": changed,
            "applied": applied,
            "applies": applies(applied),
        }
