"""What each kind of subscription account holds and how its token is renewed.

- ChatGPT (``CodexCredentials``): an access token (a JWT with ``exp``), an id token and a
  refresh token that rotates on every renewal; renewed five minutes before it lapses.
- Copilot (``CopilotCredentials``): a long-lived GitHub token, exchanged for a Copilot token
  that lives about half an hour; exchanged again a minute before GitHub says to.

``fetch`` asks the provider and changes nothing; the account stores what must be stored (the
rotated refresh token) and only then ``adopt``s it, so a token is never used before it is saved.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from gateway.auth.oauth.github import CopilotRefused, CopilotToken, GitHubAuth
from gateway.auth.oauth.http import AuthUnreachable
from gateway.auth.oauth.openai import OpenAIAuth, RefreshRefused, Tokens
from gateway.clock import Clock
from gateway.providers.access import Access
from gateway.providers.quota import QuotaWindow, codex_usage, copilot_user

RENEW_MARGIN = 300.0  # seconds before a ChatGPT access token lapses that it is renewed
COPILOT_MARGIN = 60.0


class RenewalFailed(Exception):
    def __init__(self, message: str, reason: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason  # "needs_sign_in" / "no_access" when only the user can mend it; None: may pass


class Credentials(Protocol):
    def current(self, now: float) -> Access | None:
        """A token good for now, or None when it must be renewed first."""
        ...

    async def fetch(self) -> Any:
        """New credentials from the provider; raises ``RenewalFailed``."""
        ...

    def stored_after(self, fresh: Any) -> str | None:
        """What the secret store must hold once ``fresh`` is adopted (None: nothing changes)."""
        ...

    def adopt(self, fresh: Any) -> None: ...

    def stored_now(self) -> str:
        """What the secret store holds for these credentials as they are now."""
        ...

    def secrets(self) -> tuple[str, ...]: ...

    async def quota(self) -> tuple[tuple[QuotaWindow, ...], str | None]:
        """The provider's usage endpoint: quota windows and the plan, when it answers."""
        ...


class CodexCredentials:
    def __init__(self, auth: OpenAIAuth, tokens: Tokens, account_id: str, account: str = "") -> None:
        self._auth = auth
        self.tokens = tokens
        self._account_id = account_id
        self.account = account  # its label: its requests, renewals and quota reads take its own proxy

    @staticmethod
    def stored(tokens: Tokens) -> str:
        return json.dumps(
            {"id_token": tokens.id_token, "access_token": tokens.access_token, "refresh_token": tokens.refresh_token}
        )

    @staticmethod
    def parse(stored: str) -> Tokens:
        data = json.loads(stored)
        return Tokens(data.get("id_token", ""), data["access_token"], data["refresh_token"])

    def current(self, now: float) -> Access | None:
        expires = self.tokens.expires_at
        if expires is not None and expires - now < RENEW_MARGIN:
            return None
        return Access(
            self.tokens.access_token, headers=(("ChatGPT-Account-Id", self._account_id),), account=self.account
        )

    async def fetch(self) -> Tokens:
        try:
            fresh = await self._auth.refresh(self.tokens.refresh_token, self.account)
        except RefreshRefused as exc:
            raise RenewalFailed(exc.message, "needs_sign_in" if exc.permanent else None) from None
        except AuthUnreachable as exc:
            raise RenewalFailed(f"cannot reach the ChatGPT sign-in server: {exc}", None) from None
        return Tokens(fresh.id_token or self.tokens.id_token, fresh.access_token, fresh.refresh_token)

    def stored_after(self, fresh: Tokens) -> str:
        return self.stored(fresh)

    def adopt(self, fresh: Tokens) -> None:
        self.tokens = fresh

    def stored_now(self) -> str:
        return self.stored(self.tokens)

    def secrets(self) -> tuple[str, ...]:
        t = self.tokens
        return tuple(s for s in (t.access_token, t.refresh_token, t.id_token) if s)

    async def quota(self) -> tuple[tuple[QuotaWindow, ...], str | None]:
        try:
            body = await self._auth.usage(self.tokens.access_token, self._account_id, self.account)
        except AuthUnreachable:
            return (), None
        if body is None:
            return (), None
        plan = body.get("plan_type")
        return codex_usage(body), plan if isinstance(plan, str) else None


class CopilotCredentials:
    def __init__(self, github: GitHubAuth, github_token: str, clock: Clock, account: str = "") -> None:
        self._github = github
        self.github_token = github_token
        self._clock = clock
        self.account = account  # its label: its requests, renewals and quota reads take its own proxy
        self._token: CopilotToken | None = None
        self._renew_at = 0.0

    @staticmethod
    def stored(github_token: str) -> str:
        return json.dumps({"github_token": github_token})

    @staticmethod
    def parse(stored: str) -> str:
        token: str = json.loads(stored)["github_token"]
        return token

    def current(self, now: float) -> Access | None:
        token = self._token
        if token is None or now >= self._renew_at or now >= token.expires_at - COPILOT_MARGIN:
            return None
        return Access(token.token, base_url=token.api_url, account=self.account)

    async def fetch(self) -> tuple[CopilotToken, float]:
        try:
            token = await self._github.copilot_token(self.github_token, self.account)
        except CopilotRefused as exc:
            raise RenewalFailed(exc.message, exc.reason if exc.permanent else None) from None
        except AuthUnreachable as exc:
            raise RenewalFailed(f"cannot reach GitHub: {exc}", None) from None
        # Renewed when GitHub says to, a minute early (and never sooner than a minute from now).
        return token, self._clock.time() + max(token.refresh_in - COPILOT_MARGIN, COPILOT_MARGIN)

    def stored_after(self, fresh: tuple[CopilotToken, float]) -> None:
        return None  # the GitHub token does not change; the Copilot token lives in memory only

    def adopt(self, fresh: tuple[CopilotToken, float]) -> None:
        self._token, self._renew_at = fresh

    def stored_now(self) -> str:
        return self.stored(self.github_token)

    def secrets(self) -> tuple[str, ...]:
        return (self.github_token, self._token.token) if self._token is not None else (self.github_token,)

    async def quota(self) -> tuple[tuple[QuotaWindow, ...], str | None]:
        try:
            body = await self._github.user(self.github_token, self.account)
        except AuthUnreachable:
            return (), None
        if body is None:
            return (), None
        plan = body.get("copilot_plan")
        return copilot_user(body), plan if isinstance(plan, str) else None
