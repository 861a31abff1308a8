"""What a provider's JWTs say of the account (protocols.md §7.4). The tokens are read, not
verified: they come straight from the provider over TLS, and the provider checks them on use."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

AUTH_CLAIM = "https://api.openai.com/auth"
PROFILE_CLAIM = "https://api.openai.com/profile"


def claims(token: str) -> dict[str, Any]:
    """The payload of a JWT; {} when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, UnicodeDecodeError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def expires_at(token: str) -> float | None:
    exp = claims(token).get("exp")
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


@dataclass(frozen=True, slots=True)
class ChatGPTIdentity:
    account_id: str
    plan: str
    email: str


def chatgpt_identity(id_token: str, access_token: str = "", account_id: str | None = None) -> ChatGPTIdentity:
    """The ChatGPT account of a login: ``account_id`` when the login file names it, else the
    id token's auth claim (the access token's as a fallback)."""
    found = claims(id_token)
    auth = found.get(AUTH_CLAIM)
    if not isinstance(auth, dict) or not auth.get("chatgpt_account_id"):
        fallback = claims(access_token).get(AUTH_CLAIM) if access_token else None
        auth = fallback if isinstance(fallback, dict) else (auth if isinstance(auth, dict) else {})
    profile = found.get(PROFILE_CLAIM)
    email = found.get("email") or (profile.get("email") if isinstance(profile, dict) else None) or ""
    return ChatGPTIdentity(
        account_id=str(account_id or auth.get("chatgpt_account_id") or ""),
        plan=str(auth.get("chatgpt_plan_type") or ""),
        email=str(email),
    )
