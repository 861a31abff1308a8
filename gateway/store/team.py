"""Choosing the store: ``[store] url`` set, the team's PostgreSQL; unset, the SQLite database in
the state folder, as always. The PostgreSQL driver is imported only here and only then, so the
desktop install, which lacks it, never loads it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from gateway.store.db import StoreError
from gateway.store.seam import Store
from gateway.store.secrets import SecretStore


async def open_team_store(url: str, env: Mapping[str, str], secrets: SecretStore) -> Store:
    """The shared store at ``url`` (``[store] url``), connected and migrated; ``StoreError`` why not.
    The password is read from ``secrets`` (the keychain) in a thread, off the event loop."""
    try:
        from gateway.store.postgres.store import open_store, store_password
    except ImportError:
        raise StoreError(
            "[store] url names a PostgreSQL database, but its driver is not installed (the 'team' extra)"
        ) from None
    return await open_store(url, await asyncio.to_thread(store_password, env, secrets))
