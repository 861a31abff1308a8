"""The one admin account: set up on first run, signed in to with a password, and what admin
routes accept — the local admin token (whoever can read the data folder is the admin already)
or a signed-in session's access token, until the password changes. A client key is not an admin
credential: 403."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from gateway.auth import admin_token
from gateway.auth.client_keys import looks_like_ours
from gateway.auth.identity import bearer_token
from gateway.auth.passwords import Passwords, check_new
from gateway.auth.sessions import Sessions, TokenPair
from gateway.clock import Clock
from gateway.errors import Forbidden, Unauthorized
from gateway.store.database import Database

ADMIN = "admin"


class AdminAccount:
    def __init__(
        self, db: Database, passwords: Passwords, sessions: Sessions, clock: Clock, local_token: str | None
    ) -> None:
        self._db = db
        self._passwords = passwords
        self.sessions = sessions
        self._clock = clock
        self._local_token = local_token

    async def exists(self) -> bool:
        return await self.sessions.store.password(ADMIN) is not None

    async def set_password(self, password: str, actor: str, first: bool = False) -> None:
        """Set (or change) the admin password (hashed in a worker thread: Argon2 takes its time on
        purpose); every session ends with a change: its refresh tokens are revoked, and the new
        generation refuses its access tokens too. Where the login is kept (the state folder's
        database or the team's), with its audit event. ``first``: only when none is set by then."""
        check_new(password)
        phc = await asyncio.to_thread(self._passwords.hash, password)
        now = self._clock.time()
        await self.sessions.store.set_password(ADMIN, phc, now, actor, int(now * 1000), first)

    async def login(self, name: str, password: str, peer: str) -> TokenPair:
        stored = await self.sessions.store.password(ADMIN) if name == ADMIN else None
        phc, gen = stored if stored is not None else (None, 0)
        ok = await self._passwords.verify_async(phc, password)
        if not ok or phc is None:
            # Who tried, never what was typed: a password typed into the name field would stay in the chain.
            await asyncio.wrap_future(self._db.audit("anonymous", "admin.login_failed", {"peer": peer}))
            raise Unauthorized("Wrong name or password.", code="invalid_credentials")
        if self._passwords.outdated(phc):
            await self._rehash(password)
        await asyncio.wrap_future(self._db.audit(ADMIN, "admin.login", {"peer": peer}))
        return await self.sessions.issue(ADMIN, gen)  # a password changed meanwhile refuses it

    async def _rehash(self, password: str) -> None:
        phc = await asyncio.to_thread(self._passwords.hasher.hash, password)  # Argon2: off the event loop
        await self.sessions.store.rehash(ADMIN, phc)

    async def authorize(self, headers: Mapping[str, str]) -> str:
        """The admin acting (for the audit log): the holder of the local admin token, or of a
        signed-in admin's access token of the current password; or the refusal."""
        token = _presented(headers)
        if _is_local(token, self._local_token):
            return "local-admin"
        return str((await self.sessions.access(token))["sub"])


def local_admin(headers: Mapping[str, str], local_token: str | None) -> str:
    """Who may use an admin route where there are no sessions: the holder of the local admin token."""
    if _is_local(_presented(headers), local_token):
        return "local-admin"
    raise Unauthorized("This is an admin route: send the admin token as 'Authorization: Bearer <token>'.")


def _presented(headers: Mapping[str, str]) -> str:
    """The bearer token sent to an admin route; refused when it is none or a client key."""
    token = bearer_token(headers) or ""
    if looks_like_ours(token) or looks_like_ours(headers.get("x-api-key", "")):
        raise Forbidden("A client key cannot use admin routes; sign in as the admin.")
    if not token:
        raise Unauthorized("This is an admin route: sign in at /admin/auth/login and send the access token.")
    return token


def _is_local(token: str, local_token: str | None) -> bool:
    return local_token is not None and admin_token.matches(token, local_token)
