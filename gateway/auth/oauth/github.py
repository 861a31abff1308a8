"""GitHub Copilot sign-in (protocols.md §8.1, §8.3, §8.8): the device flow for a GitHub token,
its exchange for the short-lived Copilot token, and the user endpoint's quota."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.auth.oauth.http import exchange
from gateway.providers.copilot import API_VERSION, EDITOR_VERSION, PLUGIN_VERSION
from gateway.providers.settings import SubscriptionSettings
from gateway.transport import Transport
from gateway.transport.addresses import check_base_url

CLIENT_ID = "Iv1.b507a08c87ecfe98"  # the VS Code Copilot GitHub App
SCOPE = "read:user"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_EDITOR = (
    ("Editor-Version", EDITOR_VERSION),
    ("Editor-Plugin-Version", PLUGIN_VERSION),
    ("X-GitHub-Api-Version", API_VERSION),
)


@dataclass(frozen=True, slots=True)
class DeviceCode:
    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    expires_in: int
    interval: int


@dataclass(frozen=True, slots=True)
class Poll:
    """One answer to polling: the token, or the pending/error code and the interval to keep."""

    token: str | None = field(default=None, repr=False)
    error: str = ""
    interval: int | None = None


@dataclass(frozen=True, slots=True)
class CopilotToken:
    token: str = field(repr=False)
    expires_at: float
    refresh_in: float
    api_url: str
    sku: str


class CopilotRefused(Exception):
    """GitHub would not hand out a Copilot token. ``permanent``: the GitHub token is bad or the
    account has no Copilot (sign in again, or subscribe); otherwise it may pass."""

    def __init__(self, message: str, *, permanent: bool, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.reason = reason  # "needs_sign_in" or "no_access"


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


class GitHubAuth:
    def __init__(self, endpoints: SubscriptionSettings, transport: Transport) -> None:
        self._web = endpoints.github_url
        self.host = endpoints.github_host
        self._api = endpoints.github_api_url
        self._copilot_default = endpoints.copilot_api_url
        self._transport = transport

    async def device_code(self) -> DeviceCode:
        answer = await exchange(
            self._transport,
            "POST",
            f"{self._web}/login/device/code",
            who="github",
            json={"client_id": CLIENT_ID, "scope": SCOPE},
        )
        body = answer.body
        if (
            answer.status != 200
            or not isinstance(body.get("device_code"), str)
            or not isinstance(body.get("user_code"), str)
        ):
            raise CopilotRefused(
                f"GitHub did not start the sign-in ({answer.refusal()})", permanent=True, reason="needs_sign_in"
            )
        return DeviceCode(
            body["device_code"],
            body["user_code"],
            str(body.get("verification_uri") or f"{self._web}/login/device"),
            _int(body.get("expires_in"), 900),
            _int(body.get("interval"), 5),
        )

    async def poll(self, device: DeviceCode) -> Poll:
        answer = await exchange(
            self._transport,
            "POST",
            f"{self._web}/login/oauth/access_token",
            who="github",
            json={"client_id": CLIENT_ID, "device_code": device.device_code, "grant_type": GRANT},
        )
        body = answer.body
        token = body.get("access_token")
        if isinstance(token, str) and token:
            return Poll(token=token)
        interval = body.get("interval")
        return Poll(
            error=answer.error_code() or f"http_{answer.status}",
            interval=interval
            if isinstance(interval, int) and not isinstance(interval, bool) and interval > 0
            else None,
        )

    async def copilot_token(self, github_token: str, account: str = "") -> CopilotToken:
        answer = await exchange(
            self._transport,
            "GET",
            f"{self._api}/copilot_internal/v2/token",
            who="copilot",
            account=account,
            headers=(("Authorization", f"token {github_token}"), *_EDITOR),
        )
        body = answer.body
        token, expires = body.get("token"), body.get("expires_at")
        if answer.status == 200 and isinstance(token, str) and isinstance(expires, int | float):
            endpoints = body.get("endpoints")
            api = endpoints.get("api") if isinstance(endpoints, dict) else None
            return CopilotToken(
                token,
                float(expires),
                float(_int(body.get("refresh_in"), 1500)),
                self._api_url(api),
                str(body.get("sku") or ""),
            )
        if answer.status == 401:
            raise CopilotRefused("GitHub no longer accepts this sign-in", permanent=True, reason="needs_sign_in")
        if answer.status == 403 or answer.status == 404:
            raise CopilotRefused(
                f"this GitHub account has no Copilot access ({answer.refusal()})", permanent=True, reason="no_access"
            )
        raise CopilotRefused(f"GitHub could not issue a Copilot token ({answer.refusal()})", permanent=False, reason="")

    def _api_url(self, named: Any) -> str:
        """The chat address the token names, if it is a sound one; else the configured default.
        (Credentials go only to https hosts, or to loopback in tests and local setups.)"""
        if isinstance(named, str) and named:
            try:
                return check_base_url(named, plain_http_ok=False)
            except ValueError:
                pass
        return self._copilot_default

    async def user(self, github_token: str, account: str = "") -> dict[str, Any] | None:
        """The user endpoint: plan and quota snapshots."""
        answer = await exchange(
            self._transport,
            "GET",
            f"{self._api}/copilot_internal/user",
            who="copilot",
            account=account,
            headers=(("Authorization", f"token {github_token}"), *_EDITOR),
        )
        return answer.body if answer.status == 200 else None

    async def login(self, github_token: str) -> str:
        """The GitHub user name of a token ("" when GitHub does not say)."""
        answer = await exchange(
            self._transport,
            "GET",
            f"{self._api}/user",
            who="github",
            headers=(("Authorization", f"token {github_token}"),),
        )
        login = answer.body.get("login") if answer.status == 200 else None
        return login if isinstance(login, str) else ""
