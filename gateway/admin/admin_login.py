"""The administrator's own login, the same for every front-end: signing in with the password,
renewing a session, and setting the password (``admin password``), which ends every session
signed in before it. Each is audited by the account it acts on (``gateway.auth.admin_account``)."""

from __future__ import annotations

from gateway.admin.state import State
from gateway.auth.sessions import TokenPair


class AdminLogin:
    def __init__(self, state: State) -> None:
        self._state = state

    async def login(self, name: str, password: str, peer: str) -> TokenPair:
        return await self._state.admin.login(name, password, peer)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """A new pair for a refresh token, which is spent."""
        return await self._state.sessions.refresh(refresh_token)

    async def set_password(self, password: str, actor: str) -> None:
        """Set or change the password (``InvalidRequest`` when it is too weak)."""
        await self._state.admin.set_password(password, actor)
