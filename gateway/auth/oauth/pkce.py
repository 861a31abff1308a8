"""PKCE and state for an authorization-code login (RFC 7636, RFC 9700; SECURITY.md S36)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class Pkce:
    verifier: str = field(repr=False)  # 43 characters of the URL-safe alphabet (32 random bytes)
    challenge: str  # S256 of the verifier

    @classmethod
    def new(cls) -> Pkce:
        verifier = _b64(secrets.token_bytes(32))
        return cls(verifier, _b64(hashlib.sha256(verifier.encode("ascii")).digest()))


def new_state() -> str:
    """256 bits, URL-safe: the login's one-time name on its way back."""
    return _b64(secrets.token_bytes(32))
