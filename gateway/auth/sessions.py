"""Admin sessions: HS512 JWTs — an access token for 15 minutes, a refresh token for 30 days.

Verification pins the algorithm to exactly HS512 and requires ``exp``, ``iat``, ``iss``, ``aud``,
``sub`` and an explicit ``typ`` claim (an access token is no refresh token, and the reverse);
the ``kid`` header is never read. Every token carries its account's generation (``gen``), which a
password change moves on: an access token of an earlier generation is refused at once, not when
it lapses, and a refresh token of one as well (SECURITY.md S19, S20). Refresh tokens rotate: each
is spent by its use, and only its hash is stored, with the family it belongs to. Presenting a
spent one after a short grace period revokes the whole family (someone holds a copy) and is
audited. Inside the grace period the loser of two simultaneous refreshes is refused but the
family survives — a client that retried is not a thief.

The login is the state folder's, or, joined to a team (``share``), the team's database's, with
the team's signing secret: a session begun through one gateway is renewed and ended on every one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from gateway.clock import Clock
from gateway.errors import Unauthorized
from gateway.store import admin_login
from gateway.store.database import Database
from gateway.store.seam import AdminLoginStore
from gateway.store.sqlite_store import SqliteAdminLogin

ALGORITHM = "HS512"
ISSUER = "switchboard"
AUDIENCE = "switchboard-admin"
ACCESS_SECONDS = 15 * 60
REFRESH_SECONDS = 30 * 86400
LEEWAY = 30
REUSE_GRACE = 10.0
SHORTEST_SECRET = 64  # bytes (RFC 7518: at least the hash's output)
_REQUIRED = ["exp", "iat", "iss", "aud", "sub", "typ", "gen"]


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str

    def public(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "Bearer",
            "expires_in": ACCESS_SECONDS,
        }


def _refused(what: str) -> Unauthorized:
    return Unauthorized(f"{what}; sign in again at /admin/auth/login.", code="invalid_token")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def _checked(secret: bytes) -> bytes:
    if len(secret) < SHORTEST_SECRET:
        raise ValueError(f"the JWT secret must be at least {SHORTEST_SECRET} bytes")
    return secret


class Sessions:
    def __init__(self, secret: bytes, db: Database, clock: Clock) -> None:
        self._own: tuple[bytes, AdminLoginStore] = (_checked(secret), SqliteAdminLogin(db))
        self._secret = self._own[0]
        self.store: AdminLoginStore = self._own[1]  # the login: the state folder's, or the team's (``share``)
        self._clock = clock

    def share(self, team: tuple[bytes, AdminLoginStore] | None) -> None:
        """From now on the login and its tokens' secret are the team's (``team``), or, with None,
        the state folder's again."""
        secret, self.store = (_checked(team[0]), team[1]) if team is not None else self._own
        self._secret = secret

    def _token(self, subject: str, typ: str, lifetime: int, gen: int, family: str | None = None) -> str:
        now = int(self._clock.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "typ": typ,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": secrets.token_urlsafe(16),
            "gen": gen,
        }
        if family is not None:
            claims["fam"] = family
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM, headers={"typ": "JWT"})

    def claims(self, token: str, typ: str) -> dict[str, Any]:
        """The verified claims of a token of type ``typ``; Unauthorized for anything else."""
        if len(token) > 4096:
            raise _refused("The token is malformed")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY,
                # Times are checked below against the injected clock, not the system's.
                options={"require": _REQUIRED, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise _refused("The token is not valid") from None
        now = self._clock.time()
        times = (claims["exp"], claims["iat"], claims.get("nbf", 0))
        if (
            not all(isinstance(t, int | float) and not isinstance(t, bool) for t in times)
            or type(claims["gen"]) is not int
        ):
            raise _refused("The token is not valid")
        if claims["exp"] < now - LEEWAY:
            raise _refused("The token has expired")
        if claims["iat"] > now + LEEWAY or claims.get("nbf", 0) > now + LEEWAY:
            raise _refused("The token is not valid yet")
        if claims["typ"] != typ:
            raise _refused(f"This is not an {typ} token" if typ == "access" else f"This is not a {typ} token")
        return claims

    async def access(self, token: str) -> dict[str, Any]:
        """The claims of an access token that is valid and of its account's current generation."""
        claims = self.claims(token, "access")
        subject = str(claims["sub"])
        if await self.store.generation(subject) != claims["gen"]:
            raise _refused("The session ended when the password changed")
        return claims

    async def issue(self, subject: str, gen: int) -> TokenPair:
        """A new session of the account's generation ``gen`` (as it was when its password was
        checked): a fresh refresh-token family."""
        family = secrets.token_urlsafe(12)
        refresh = self._token(subject, "refresh", REFRESH_SECONDS, gen, family)
        expires = self._clock.time() + REFRESH_SECONDS

        await self.store.issue(_digest(refresh), family, subject, expires)
        return TokenPair(self._token(subject, "access", ACCESS_SECONDS, gen), refresh)

    async def refresh(self, token: str) -> TokenPair:
        """Spend a refresh token for a new pair (one atomic step, on every gateway of a team at once)."""
        claims = self.claims(token, "refresh")
        subject, family, gen = str(claims["sub"]), str(claims.get("fam", "")), int(claims["gen"])
        new_refresh = self._token(subject, "refresh", REFRESH_SECONDS, gen, family)
        now = self._clock.time()
        spent = admin_login.Spend(
            _digest(token),
            family,
            subject,
            gen,
            now,
            int(now * 1000),
            REUSE_GRACE,
            _digest(new_refresh),
            now + REFRESH_SECONDS,
        )
        outcome = await self.store.spend(spent)
        if outcome != "ok":
            messages = {
                "unknown": "The refresh token is not known",
                "revoked": "The refresh token was revoked or has expired",
                "raced": "The refresh token was just used",
                "reused": "The refresh token was already used, so its session has been ended",
            }
            raise _refused(messages[outcome])
        return TokenPair(self._token(subject, "access", ACCESS_SECONDS, gen), new_refresh)
