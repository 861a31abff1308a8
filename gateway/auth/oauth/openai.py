"""ChatGPT sign-in as the Codex CLI does it (protocols.md §7.2–7.3, §7.6): the authorization
URL, the code exchange, refresh with rotating refresh tokens, and the usage endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from gateway.auth.oauth.claims import expires_at
from gateway.auth.oauth.http import exchange
from gateway.auth.oauth.pkce import Pkce
from gateway.providers.settings import SubscriptionSettings
from gateway.transport import Transport

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
SCOPE = "openid profile email offline_access"
REFRESH_SCOPE = "openid profile email"
CALLBACK_PORTS = (1455, 1457)  # both are on the client's redirect allow-list, in this order
CALLBACK_PATH = "/auth/callback"
# Refresh errors that only a new sign-in can mend (any other failure may pass).
PERMANENT = frozenset({"refresh_token_reused", "refresh_token_expired", "refresh_token_invalidated", "invalid_grant"})


@dataclass(frozen=True, slots=True)
class Tokens:
    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)

    @property
    def expires_at(self) -> float | None:
        return expires_at(self.access_token)


class RefreshRefused(Exception):
    """The auth server would not renew the login. ``permanent``: only signing in again helps."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def redirect_uri(port: int) -> str:
    return f"http://localhost:{port}{CALLBACK_PATH}"  # exactly "localhost", as the client registered it


class OpenAIAuth:
    def __init__(self, endpoints: SubscriptionSettings, transport: Transport) -> None:
        self._root = endpoints.openai_auth_url
        self._usage_url = endpoints.usage_url
        self._transport = transport

    def authorize_url(self, redirect: str, pkce: Pkce, state: str) -> str:
        query = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": redirect,
            "scope": SCOPE,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
            "id_token_add_organizations": "true",
            "codex_cli_simplified_flow": "true",
            "state": state,
            "originator": "codex_cli_rs",
        }
        return f"{self._root}/oauth/authorize?{urlencode(query)}"

    async def exchange_code(self, code: str, redirect: str, pkce: Pkce) -> Tokens:
        answer = await exchange(
            self._transport,
            "POST",
            f"{self._root}/oauth/token",
            who="openai-auth",
            form={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "client_id": CLIENT_ID,
                "code_verifier": pkce.verifier,
            },
        )
        tokens = _tokens(answer.body)
        if answer.status != 200 or tokens is None or not tokens.refresh_token:
            raise RefreshRefused(f"the sign-in could not be completed ({answer.refusal()})", permanent=True)
        return tokens

    async def refresh(self, refresh_token: str, account: str = "") -> Tokens:
        """New tokens; the refresh token rotates (the old one must never be used again)."""
        answer = await exchange(
            self._transport,
            "POST",
            f"{self._root}/oauth/token",
            who="openai-auth",
            account=account,
            json={
                "client_id": CLIENT_ID,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "scope": REFRESH_SCOPE,
            },
        )
        tokens = _tokens(answer.body, refresh_token)
        if answer.status == 200 and tokens is not None:
            return tokens
        code = answer.error_code()
        permanent = code in PERMANENT or (answer.status in (400, 401, 403) and code not in ("", "server_error"))
        raise RefreshRefused(f"ChatGPT refused to renew the sign-in ({answer.refusal()})", permanent=permanent)

    async def usage(self, access_token: str, account_id: str, account: str = "") -> dict[str, Any] | None:
        answer = await exchange(
            self._transport,
            "GET",
            self._usage_url,
            who="codex",
            account=account,
            headers=(("Authorization", f"Bearer {access_token}"), ("ChatGPT-Account-Id", account_id)),
        )
        return answer.body if answer.status == 200 else None


def _tokens(body: dict[str, Any], old_refresh: str = "") -> Tokens | None:
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        return None
    id_token = body.get("id_token")
    refresh = body.get("refresh_token")
    return Tokens(
        id_token if isinstance(id_token, str) else "",
        access,
        refresh if isinstance(refresh, str) and refresh else old_refresh,
    )
