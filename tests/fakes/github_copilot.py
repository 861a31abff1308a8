"""A fake of github.com, api.github.com and api.githubcopilot.com in one loopback server
(shared/protocols.md §8): GitHub Copilot as the gateway meets it.

- Device flow: ``POST /login/device/code`` and ``POST /login/oauth/access_token``, which answers
  the outcomes queued in ``polls`` (``authorization_pending``, ``slow_down``, ``expired_token``,
  ``access_denied``; HTTP 200 each, as GitHub does) and then the token; it notes when each poll
  came, so tests can check the interval was kept.
- ``echoes``: the auth paths (device code, polling, token exchange) that refuse by repeating the
  request (``auth_echo``); the device code endpoint's refusal carries a device code as well.
- ``GET /copilot_internal/v2/token`` (``Authorization: token …``) gives a short-lived Copilot token
  whose ``endpoints.api`` is this server; a GitHub token without Copilot gets 403.
- ``GET /copilot_internal/user`` (quota snapshots), ``GET /user``.
- The Copilot API: ``/models`` in Copilot's shape, ``/chat/completions`` and ``/responses`` (the
  OpenAI fake's answers) and ``/v1/messages`` (the Anthropic fake's, thinking included), each
  needing a live Copilot token and the editor headers, each answer carrying
  ``x-quota-snapshot-premium_interactions``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web

from fakes.anthropic_upstream import FakeAnthropic
from fakes.auth_echo import Echo, echoing_refusal
from fakes.openai_upstream import FakeOpenAI

CLIENT_ID = "Iv1.b507a08c87ecfe98"
USER_CODE = "WDJB-MJHT"
MODELS = [
    {
        "id": "gpt-4.1",
        "name": "GPT-4.1",
        "vendor": "Azure OpenAI",
        "object": "model",
        "model_picker_enabled": True,
        "is_chat_default": True,
        "billing": {"is_premium": False, "multiplier": 0},
        "capabilities": {
            "type": "chat",
            "family": "gpt-4.1",
            "tokenizer": "o200k_base",
            "limits": {"max_context_window_tokens": 128000, "max_prompt_tokens": 64000, "max_output_tokens": 16384},
            "supports": {"streaming": True, "tool_calls": True, "vision": True},
        },
        "supported_endpoints": ["/chat/completions", "/responses"],
    },
    {
        "id": "claude-sonnet-4",
        "name": "Claude Sonnet 4",
        "vendor": "Anthropic",
        "object": "model",
        "model_picker_enabled": True,
        "is_chat_default": False,
        "billing": {"is_premium": True, "multiplier": 1},
        "capabilities": {
            "type": "chat",
            "family": "claude-sonnet-4",
            "tokenizer": "o200k_base",
            "limits": {"max_context_window_tokens": 200000, "max_prompt_tokens": 128000, "max_output_tokens": 16000},
            "supports": {"streaming": True, "tool_calls": True, "vision": True, "thinking": True},
        },
        "supported_endpoints": ["/chat/completions", "/v1/messages"],
    },
    {
        "id": "o3-pro-preview",
        "name": "o3 pro",
        "vendor": "OpenAI",
        "object": "model",
        "model_picker_enabled": False,
        "is_chat_default": False,
        "policy": {"state": "disabled", "terms": "Enable in settings"},
        "capabilities": {"type": "chat", "family": "o3", "limits": {}, "supports": {}},
    },
    {
        "id": "text-embedding-3-small",
        "name": "Embedding V3 small",
        "vendor": "Azure OpenAI",
        "object": "model",
        "model_picker_enabled": False,
        "is_chat_default": False,
        "capabilities": {
            "type": "embeddings",
            "family": "text-embedding-3-small",
            "limits": {"max_inputs": 512},
            "supports": {},
        },
    },
]
CHAT_MODELS = ("gpt-4.1", "claude-sonnet-4")


class _CopilotClaude(FakeAnthropic):
    """Claude as Copilot serves it on /v1/messages: Copilot's tokens let a request in, and its
    requests are kept with Copilot's."""

    def __init__(self, copilot: FakeCopilot) -> None:
        super().__init__(key=None, models=CHAT_MODELS)
        self.copilot = copilot
        self.requests = copilot.requests

    def authorized(self, request: web.Request) -> bool:
        return self.copilot.authorized(request)


class FakeCopilot(FakeOpenAI):
    kind = "copilot"

    def __init__(self) -> None:
        super().__init__(key="", models=CHAT_MODELS)
        self.keys = set()  # Copilot tokens it has issued and that are still live
        self.github_tokens: dict[str, str] = {}  # GitHub token -> login
        self.no_copilot: set[str] = set()  # GitHub tokens of accounts without Copilot
        self.copilot_expiry: dict[str, float] = {}
        self.token_ttl = 1800.0
        self.refresh_in = 1500
        self.exchanges = 0
        self.polls: list[str] = []  # outcomes of the next polls, then the token
        self.poll_times: list[float] = []
        self.device_interval = 1
        self.device_expires_in = 900
        self.premium_remaining = 80.0
        self.echoes: dict[str, Echo] = {}  # path -> how it refuses, repeating the request
        self.device_code = ""  # the device code it hands out (else a random one)
        self.anthropic = _CopilotClaude(self)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/login/device/code", self._device_code)
        app.router.add_post("/login/oauth/access_token", self._access_token)
        app.router.add_get("/copilot_internal/v2/token", self._copilot_token)
        app.router.add_get("/copilot_internal/user", self._user_quota)
        app.router.add_get("/user", self._user)
        app.router.add_get("/models", self._copilot_models)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_post("/responses", self._responses)
        app.router.add_post("/v1/messages", self.anthropic._messages)
        app.on_response_prepare.append(self._quota_header)

    @property
    def url(self) -> str:
        return self.root

    def github_user(self, login: str = "octocat", *, copilot: bool = True) -> str:
        token = f"ghu_{secrets.token_urlsafe(27)}"
        self.github_tokens[token] = login
        if not copilot:
            self.no_copilot.add(token)
        return token

    def authorized(self, request: web.Request) -> bool:
        token = self.presented(request) or ""
        if token not in self.keys or self.copilot_expiry.get(token, 0) <= time.time():
            return False
        return request.headers.get("Copilot-Integration-Id") == "vscode-chat" and bool(
            request.headers.get("Editor-Version")
        )

    def expire_copilot_tokens(self) -> None:
        for token in self.copilot_expiry:
            self.copilot_expiry[token] = 0.0

    def _github_token(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("token ") if auth.startswith("token ") else None
        return token if token in self.github_tokens else None

    async def _quota_header(self, request: web.Request, response: web.StreamResponse) -> None:
        if request.path in ("/chat/completions", "/responses", "/v1/messages") and response.status == 200:
            response.headers["x-quota-snapshot-premium_interactions"] = (
                f"ent=300&ov=0.0&ovPerm=false&rem={self.premium_remaining}&rst={_next_reset()}T00%3A00%3A00Z"
            )

    async def _device_code(self, request: web.Request) -> web.Response:
        rec = await self.record(request)
        device_code = self.device_code or "dc_" + secrets.token_hex(8)
        if (echo := self.echoes.get(request.path)) is not None:
            return echoing_refusal(rec, echo, {"device_code": device_code, "user_code": USER_CODE})
        if (rec.json or {}).get("client_id") != CLIENT_ID:
            return web.json_response({"error": "unauthorized_client"}, status=400)
        return web.json_response(
            {
                "device_code": device_code,
                "user_code": USER_CODE,
                "verification_uri": f"{self.root}/login/device",
                "expires_in": self.device_expires_in,
                "interval": self.device_interval,
            }
        )

    async def _access_token(self, request: web.Request) -> web.Response:
        rec = await self.record(request)
        self.poll_times.append(time.monotonic())
        if (echo := self.echoes.get(request.path)) is not None:
            return echoing_refusal(rec, echo)
        body = rec.json or {}
        if (
            body.get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code"
            or body.get("client_id") != CLIENT_ID
        ):
            return web.json_response({"error": "unsupported_grant_type"})
        if self.polls:
            outcome = self.polls.pop(0)
            answer: dict[str, Any] = {
                "error": outcome,
                "error_description": f"fake: {outcome}",
                "error_uri": "https://docs.github.com",
            }
            if outcome == "slow_down":
                answer["interval"] = self.device_interval + 5
            return web.json_response(answer)
        return web.json_response(
            {"access_token": self.github_user("octocat"), "token_type": "bearer", "scope": "read:user"}
        )

    async def _copilot_token(self, request: web.Request) -> web.Response:
        rec = await self.record(request)
        if (echo := self.echoes.get(request.path)) is not None:
            return echoing_refusal(rec, echo)
        github = self._github_token(request)
        if github is None:
            return web.json_response(
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, status=401
            )
        if github in self.no_copilot:
            return web.json_response(
                {
                    "message": "Resource not accessible by integration",
                    "error_details": {
                        "message": "No Copilot subscription for this account",
                        "notification_id": "no_copilot",
                    },
                },
                status=403,
            )
        self.exchanges += 1
        expires = time.time() + self.token_ttl
        token = f"tid={secrets.token_hex(8)};exp={int(expires)};sku=copilot_for_individuals:{secrets.token_hex(8)}"
        self.keys.add(token)
        self.copilot_expiry[token] = expires
        return web.json_response(
            {
                "token": token,
                "expires_at": int(expires),
                "refresh_in": self.refresh_in,
                "sku": "copilot_for_individuals",
                "individual": True,
                "endpoints": {"api": self.root, "proxy": self.root, "telemetry": self.root},
            }
        )

    async def _user_quota(self, request: web.Request) -> web.Response:
        await self.record(request)
        if self._github_token(request) is None:
            return web.json_response({"message": "Bad credentials"}, status=401)
        return web.json_response(
            {
                "copilot_plan": "individual",
                "chat_enabled": True,
                "quota_reset_date": _next_reset(),
                "quota_snapshots": {
                    "premium_interactions": {
                        "entitlement": 300,
                        "remaining": 240,
                        "percent_remaining": self.premium_remaining,
                        "unlimited": False,
                        "overage_count": 0,
                        "overage_permitted": False,
                        "quota_id": "premium_interactions",
                    },
                    "chat": {
                        "entitlement": 0,
                        "remaining": 0,
                        "percent_remaining": 100,
                        "unlimited": True,
                        "quota_id": "chat",
                    },
                    "completions": {
                        "entitlement": 0,
                        "remaining": 0,
                        "percent_remaining": 100,
                        "unlimited": True,
                        "quota_id": "completions",
                    },
                },
            }
        )

    async def _user(self, request: web.Request) -> web.Response:
        await self.record(request)
        github = self._github_token(request)
        if github is None:
            return web.json_response({"message": "Bad credentials"}, status=401)
        return web.json_response({"login": self.github_tokens[github], "id": 583231})

    async def _copilot_models(self, request: web.Request) -> web.Response:
        await self.record(request)
        if not self.authorized(request):
            return web.json_response({"error": {"message": "unauthorized", "code": "unauthorized"}}, status=401)
        return web.json_response({"object": "list", "data": MODELS})


def _next_reset() -> str:
    """The first day of next month (UTC), as Copilot resets its quotas: always ahead, whenever the tests run."""
    now = time.gmtime()
    year, month = (now.tm_year + 1, 1) if now.tm_mon == 12 else (now.tm_year, now.tm_mon + 1)
    return f"{year:04d}-{month:02d}-01"
