"""Where a gateway keeps its subscription accounts' tokens when it alone reads them: its own
secret store (the keychain, or the secrets file), one entry an account (``accounts.secret_name``),
read and written in a thread. A team's gateways keep them sealed in the team's database instead
(``gateway.store.postgres.tokens``), so each one reads what another's renewal stored."""

from __future__ import annotations

import asyncio

from gateway.store.accounts import secret_name
from gateway.store.secrets import SecretStore


class SecretStoreTokens:
    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets
        self.where = secrets.where

    async def get(self, account_id: str) -> str | None:
        return await asyncio.to_thread(self._secrets.get, secret_name(account_id))

    async def put(self, account_id: str, stored: str) -> None:
        await asyncio.to_thread(self._secrets.set, secret_name(account_id), stored)

    async def delete(self, account_id: str) -> None:
        await asyncio.to_thread(self._secrets.delete, secret_name(account_id))
