"""Choosing the store: ``[store] url`` set, the team's PostgreSQL; unset, the SQLite database in
the state folder, as always. The PostgreSQL driver is imported only here and only then, so the
desktop install, which lacks it, never loads it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from gateway.store.audit import AuditEvent
from gateway.store.db import StoreError
from gateway.store.ledger import LedgerRow
from gateway.store.seam import AdminLoginStore, AuditStore, Event, KeyStore, Store, TokenStore
from gateway.store.secrets import SecretStore


class WatchedKeys(KeyStore, Protocol):
    async def watch(self, changed: Callable[[str | None], None]) -> None:
        """``changed(key_id)`` as any gateway changes a key; ``changed(None)``: read them all. Until cancelled."""
        ...

    async def pepper(self) -> bytes:
        """The pepper the team's key digests are made with (each gateway's secret store has its own)."""
        ...


class TeamAudit(AuditStore, Protocol):
    """The team's one chain, where each gateway's own starts are told apart by its name."""

    async def append_all(self, events: list[Event]) -> None:
        """``events`` one after the other, in one transaction."""
        ...

    async def last_of(self, gateway: str, actions: tuple[str, ...]) -> AuditEvent | None:
        """The latest event of one of ``actions`` naming ``gateway`` (its payload's ``gateway``)."""
        ...


class TeamAdminLogin(AdminLoginStore, Protocol):
    async def jwt_secret(self) -> bytes:
        """The secret the team's sessions are signed with (each gateway's secret store has its own)."""
        ...


class SealedTokens(TokenStore, Protocol):
    def held(self, account_id: str) -> AbstractAsyncContextManager[None]:
        """Held by one renewer of the account's tokens among the team's gateways (with no Redis)."""
        ...


class TeamStore(Store, Protocol):
    """The store several gateways share: its keys' changes are announced, and it can be asked whether it answers."""

    @property
    def keys(self) -> WatchedKeys: ...

    @property
    def audit(self) -> TeamAudit: ...

    @property
    def admin_login(self) -> TeamAdminLogin: ...

    async def answers(self) -> bool:
        """Whether the database answers a query now (``/health/ready``)."""
        ...

    async def sealed_tokens(self, passphrase: str) -> SealedTokens:
        """Subscription accounts' tokens kept in the database, sealed under a key ``passphrase``
        makes (``StoreError`` when the team's tokens are sealed under another)."""
        ...

    async def recording(self, folder: Path) -> Recorder:
        """The usage ledger as a serving gateway records it, journaled in ``folder`` first; what a
        killed process left in that journal is written before (``StoreError`` or the driver's error if not)."""
        ...


class Recorder(Protocol):
    """Where a serving gateway's ledger rows go (the accountant's ``Ledger``), until ``close``."""

    def record(self, row: LedgerRow) -> None: ...

    def hold(self, row: LedgerRow) -> None: ...

    async def close(self) -> None:
        """After what is queued is written (or left in the journal for the next start)."""
        ...


async def open_team_store(url: str, env: Mapping[str, str], secrets: SecretStore) -> TeamStore:
    """The shared store at ``url`` (``[store] url``), connected and migrated; ``StoreError`` why not.
    The password is read from ``secrets`` (the keychain) in a thread, off the event loop."""
    try:
        from gateway.store.postgres.store import open_store, store_password
    except ImportError:
        raise StoreError(
            "[store] url names a PostgreSQL database, but its driver is not installed (the 'team' extra)"
        ) from None
    return await open_store(url, await asyncio.to_thread(store_password, env, secrets))
