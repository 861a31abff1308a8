"""A fake of auth.openai.com and chatgpt.com's Codex backend in one loopback server
(shared/protocols.md §7): what a ChatGPT subscription looks like from the gateway.

- ``GET /oauth/authorize`` plays the user approving: it redirects to the ``redirect_uri`` with a
  code and the ``state`` it was given.
- ``POST /oauth/token``: the code exchange (form; the PKCE verifier must match the challenge)
  and refresh (JSON; refresh tokens rotate, and a rotated one used again gets 401
  ``refresh_token_reused``); with ``echo`` set, a refusal repeating the request (``auth_echo``).
- ``POST /backend-api/codex/responses``: streams only, with the ``x-codex-*`` quota headers and a
  ``codex.rate_limits`` event first; refuses what the real backend refuses (no account header,
  ``store`` true, no ``instructions``, fields Codex never sends); a used-up account gets 429
  ``usage_limit_reached``.
- ``GET /backend-api/codex/models`` (``client_version`` required) and ``GET /backend-api/wham/usage``.

Tokens are JWTs shaped like OpenAI's (the signature is not checked by anyone).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from typing import Any, TypedDict
from urllib.parse import urlencode

from aiohttp import web

from fakes import responses_api
from fakes.auth_echo import Echo, echoing_refusal
from fakes.upstream import FakeUpstream, Script

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
ALLOWED = {
    "model",
    "instructions",
    "input",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning",
    "store",
    "stream",
    "include",
    "prompt_cache_key",
    "text",
}
MODELS = [
    {
        "slug": "gpt-5-codex",
        "visibility": "list",
        "context_window": 272000,
        "supported_reasoning_levels": [{"effort": "low"}, {"effort": "medium"}, {"effort": "high"}],
    },
    {
        "slug": "gpt-5",
        "visibility": "list",
        "context_window": 272000,
        "supported_reasoning_levels": [{"effort": "medium"}],
    },
    {
        "slug": "codex-internal-preview",
        "visibility": "hide",
        "context_window": 128000,
        "supported_reasoning_levels": [],
    },
]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Tokens(TypedDict):
    """What a sign-in or a refresh answers."""

    id_token: str
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


def jwt(payload: dict[str, Any]) -> str:
    return ".".join(
        (_b64(b'{"alg":"RS256","typ":"JWT"}'), _b64(json.dumps(payload).encode()), _b64(secrets.token_bytes(16)))
    )


class FakeChatGPT(FakeUpstream):
    kind = "codex"

    def __init__(
        self, *, account_id: str = "acct_fake_0001", email: str = "ada@example.com", plan: str = "plus"
    ) -> None:
        super().__init__(None)
        self.account_id = account_id
        self.email = email
        self.plan = plan
        self.access_ttl = 3600.0  # seconds the access tokens it issues live
        self.live_access: dict[str, str] = {}  # access token -> the account it is for
        self.live_refresh: dict[str, str] = {}  # refresh token -> account
        self.spent_refresh: set[str] = set()
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (challenge, redirect_uri)
        self.refresh_calls = 0
        self.refresh_delay = 0.0  # widen the window in which concurrent requests meet a lapsed token
        self.primary_used = 12.5
        self.secondary_used = 40.0
        self.exhausted: set[str] = set()  # accounts whose 5-hour window is used up
        self.reset_at = int(time.time()) + 3 * 3600
        self.echo: Echo | None = None  # the token endpoint refuses everything, repeating it
        self.code_prefix = "code_"  # of the authorization codes it issues

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/oauth/authorize", self._authorize)
        app.router.add_post("/oauth/token", self._token)
        app.router.add_post("/backend-api/codex/responses", self._responses)
        app.router.add_get("/backend-api/codex/models", self._models)
        app.router.add_get("/backend-api/wham/usage", self._usage)

    @property
    def url(self) -> str:
        return f"{self.root}/backend-api/codex"

    # --- tokens --------------------------------------------------------------------------------

    def issue(self, *, expired: bool = False, account_id: str | None = None, email: str | None = None) -> Tokens:
        """A fresh set of tokens, as a sign-in or a refresh returns them (for another account of
        the same service with ``account_id``)."""
        account_id = account_id or self.account_id
        auth = {"chatgpt_account_id": account_id, "chatgpt_plan_type": self.plan, "chatgpt_user_id": "user-fake"}
        exp = time.time() + (-60 if expired else self.access_ttl)
        access = jwt({"exp": int(exp), "https://api.openai.com/auth": auth, "n": secrets.token_hex(4)})
        refresh = f"rt_{secrets.token_urlsafe(24)}"
        self.live_access[access] = account_id
        self.live_refresh[refresh] = account_id
        id_token = jwt({"email": email or self.email, "exp": int(exp), "https://api.openai.com/auth": auth})
        return {
            "id_token": id_token,
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": int(self.access_ttl),
        }

    def auth_file(self, tokens: Tokens, **extra: Any) -> dict[str, Any]:
        """What the Codex CLI writes to ~/.codex/auth.json after signing in."""
        return {
            "auth_mode": "chatgpt",
            "OPENAI_API_KEY": None,
            "tokens": {k: tokens[k] for k in ("id_token", "access_token", "refresh_token")}
            | {"account_id": self.live_access[tokens["access_token"]]},
            "last_refresh": "2026-11-01T10:00:00Z",
            **extra,
        }

    def presented(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    def authorized(self, request: web.Request) -> bool:
        token = self.presented(request) or ""
        if token not in self.live_access:
            return False
        payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        return bool(payload["exp"] > time.time())

    def error_body(self, status: int, kind: str, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": kind, "code": kind}}

    def unauthorized(self) -> web.Response:
        return web.json_response(
            {
                "error": {
                    "message": "Your authentication token has expired.",
                    "type": "invalid_request_error",
                    "code": "token_expired",
                }
            },
            status=401,
        )

    async def _authorize(self, request: web.Request) -> web.Response:
        await self.record(request)
        q = request.query
        if q.get("client_id") != CLIENT_ID or q.get("code_challenge_method") != "S256" or not q.get("state"):
            return web.Response(status=400, text="bad authorize request")
        code = f"{self.code_prefix}{secrets.token_urlsafe(12)}"
        self.codes[code] = (q["code_challenge"], q["redirect_uri"])
        return web.Response(
            status=302, headers={"Location": f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"}
        )

    async def _token(self, request: web.Request) -> web.Response:
        rec = await self.record(request)
        if self.echo is not None:
            return echoing_refusal(rec, self.echo)
        if request.content_type == "application/x-www-form-urlencoded":
            form = dict(await request.post())
            challenge, redirect = self.codes.pop(str(form.get("code")), ("", ""))
            verifier = str(form.get("code_verifier", ""))
            if (
                form.get("grant_type") != "authorization_code"
                or form.get("client_id") != CLIENT_ID
                or not challenge
                or form.get("redirect_uri") != redirect
                or _b64(hashlib.sha256(verifier.encode()).digest()) != challenge
            ):
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "bad code or verifier"}, status=400
                )
            return web.json_response(self.issue())
        body = rec.json
        self.refresh_calls += 1
        await asyncio.sleep(self.refresh_delay)
        token = body.get("refresh_token")
        if body.get("grant_type") != "refresh_token" or body.get("client_id") != CLIENT_ID:
            return web.json_response(
                {"error": {"code": "invalid_request", "message": "bad refresh request"}}, status=400
            )
        if token in self.spent_refresh:
            return web.json_response(
                {"error": {"code": "refresh_token_reused", "message": "Your refresh token has already been used."}},
                status=401,
            )
        if token not in self.live_refresh:
            return web.json_response(
                {"error": {"code": "refresh_token_invalidated", "message": "Your refresh token was revoked."}},
                status=401,
            )
        account_id = self.live_refresh.pop(token)
        self.spent_refresh.add(token)
        return web.json_response(self.issue(account_id=account_id))

    def revoke_all(self) -> None:
        """The user signed out everywhere: no token works, no refresh either."""
        self.spent_refresh |= set(self.live_refresh)
        self.live_refresh.clear()
        self.live_access.clear()

    # --- backend -------------------------------------------------------------------------------

    def quota_headers(self, account_id: str) -> dict[str, str]:
        return {
            "x-codex-primary-used-percent": str(100.0 if account_id in self.exhausted else self.primary_used),
            "x-codex-primary-window-minutes": "300",
            "x-codex-primary-reset-at": str(self.reset_at),
            "x-codex-secondary-used-percent": str(self.secondary_used),
            "x-codex-secondary-window-minutes": "10080",
            "x-codex-secondary-reset-at": str(self.reset_at + 5 * 86400),
        }

    def _backend_refusal(self, request: web.Request) -> web.Response | None:
        if not self.authorized(request):
            return self.unauthorized()
        if request.headers.get("ChatGPT-Account-Id") != self.live_access[self.presented(request) or ""]:
            return web.json_response({"detail": "missing or wrong chatgpt-account-id"}, status=403)
        return None

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        rec = await self.record(request)
        if (refused := self._backend_refusal(request)) is not None:
            return refused
        body = rec.json
        problems = [k for k in body if k not in ALLOWED]
        if body.get("stream") is not True or body.get("store") is not False or "instructions" not in body or problems:
            return web.json_response(
                {"detail": f"Unsupported request: {problems or 'stream/store/instructions'}"}, status=400
            )
        if not request.headers.get("originator") or not request.headers.get("session_id"):
            return web.json_response({"detail": "missing client headers"}, status=400)
        account_id = self.live_access[self.presented(request) or ""]
        if account_id in self.exhausted:
            return web.json_response(
                {
                    "error": {
                        "type": "usage_limit_reached",
                        "message": "The usage limit has been reached",
                        "plan_type": self.plan,
                        "resets_in_seconds": self.reset_at - int(time.time()),
                    }
                },
                status=429,
                headers={**self.quota_headers(account_id), "retry-after": str(self.reset_at - int(time.time()))},
            )
        rid, created = f"resp_codex{len(self.requests):04d}", int(time.time())
        limits = {
            "type": "codex.rate_limits",
            "plan_type": self.plan,
            "rate_limits": {
                "primary": {"used_percent": self.primary_used + 0.5, "window_minutes": 300, "reset_at": self.reset_at},
                "secondary": {
                    "used_percent": self.secondary_used,
                    "window_minutes": 10080,
                    "reset_at": self.reset_at + 5 * 86400,
                },
            },
        }
        events = [
            f"event: codex.rate_limits\ndata: {json.dumps(limits)}\n\n".encode(),
            *responses_api.events(body, rid, created),
        ]
        return await self.play(request, events, Script(), headers=self.quota_headers(account_id))

    async def _models(self, request: web.Request) -> web.Response:
        await self.record(request)
        if (refused := self._backend_refusal(request)) is not None:
            return refused
        if not request.query.get("client_version"):
            return web.json_response({"detail": "client_version is required"}, status=400)
        return web.json_response({"models": MODELS})

    async def _usage(self, request: web.Request) -> web.Response:
        await self.record(request)
        if (refused := self._backend_refusal(request)) is not None:
            return refused
        exhausted = self.live_access[self.presented(request) or ""] in self.exhausted
        return web.json_response(
            {
                "plan_type": self.plan,
                "rate_limit": {
                    "primary_window": {
                        "used_percent": 100 if exhausted else self.primary_used,
                        "reset_at": self.reset_at,
                        "limit_window_seconds": 18000,
                    },
                    "secondary_window": {
                        "used_percent": self.secondary_used,
                        "reset_at": self.reset_at + 5 * 86400,
                        "limit_window_seconds": 604800,
                    },
                },
                "credits": {"has_credits": False, "unlimited": False, "balance": "0"},
            }
        )
