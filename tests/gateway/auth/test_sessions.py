"""Admin sessions (SECURITY.md S17–S20): the algorithm is pinned to HS512, the claims are
checked, access and refresh tokens are not interchangeable, refresh tokens rotate with reuse
detection, and a password change ends every token issued before it."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fakes.clock import FakeClock

from gateway.auth.sessions import AUDIENCE, ISSUER, REUSE_GRACE, Sessions
from gateway.errors import Unauthorized
from gateway.store.database import Database

SECRET = bytes(range(64))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def database(tmp_path: Path, clock: FakeClock) -> Any:
    db = Database(tmp_path, b"a" * 32, clock)
    db.open()
    db.writer.run(lambda conn: conn.execute("INSERT INTO admin (name, phc, changed) VALUES ('admin', 'x', 0)")).result()
    yield db
    db.close()


@pytest.fixture
def sessions(database: Database, clock: FakeClock) -> Sessions:
    return Sessions(SECRET, database, clock)


def claims(clock: FakeClock, **changes: Any) -> dict[str, Any]:
    now = int(clock.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "admin",
        "typ": "access",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "gen": 0,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], body: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}."


def test_a_good_access_token_passes(sessions: Sessions, clock: FakeClock) -> None:
    token = jwt.encode(claims(clock), SECRET, algorithm="HS512")
    assert sessions.claims(token, "access")["sub"] == "admin"


def test_tokens_with_the_wrong_algorithm_are_refused(sessions: Sessions, clock: FakeClock) -> None:
    body = claims(clock)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    forged = [
        unsigned({"alg": "none", "typ": "JWT"}, body),
        unsigned({"alg": "NoNe", "typ": "JWT"}, body),
        unsigned({"typ": "JWT"}, body),
        jwt.encode(body, SECRET, algorithm="HS256"),
        jwt.encode(body, SECRET, algorithm="HS384"),
        jwt.encode(body, rsa_key, algorithm="RS256"),
        jwt.encode(body, ec_key, algorithm="ES256"),
    ]
    # "RS256 signed with the secret as an HMAC key": an HS256 signature under an RS256 header
    header = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(body).encode())
    import hashlib
    import hmac

    signature = b64(hmac.new(SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    forged.append(f"{header}.{payload}.{signature}")
    for token in forged:
        with pytest.raises(Unauthorized):
            sessions.claims(token, "access")


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": None},
        {"exp": 1_700_000_000 - 31},
        {"iat": 1_700_000_000 + 60},
        {"nbf": 1_700_000_000 + 60},
        {"iss": "someone-else"},
        {"aud": "switchboard-client"},
        {"typ": "refresh"},
        {"typ": None},
        {"sub": None},
        {"gen": None},
        {"gen": "0"},
    ],
    ids=[
        "no-exp",
        "expired",
        "iat-future",
        "nbf-future",
        "wrong-iss",
        "wrong-aud",
        "refresh-as-access",
        "no-typ",
        "no-sub",
        "no-gen",
        "text-gen",
    ],
)
def test_bad_claims_are_refused(sessions: Sessions, clock: FakeClock, changes: dict[str, Any]) -> None:
    token = jwt.encode(claims(clock, **changes), SECRET, algorithm="HS512")
    with pytest.raises(Unauthorized):
        sessions.claims(token, "access")


def test_expiry_has_a_small_leeway_and_a_kid_is_never_used(sessions: Sessions, clock: FakeClock) -> None:
    token = jwt.encode(
        claims(clock, exp=int(clock.time()) - 20), SECRET, algorithm="HS512", headers={"kid": "../../etc/passwd"}
    )
    assert sessions.claims(token, "access")["sub"] == "admin"


async def test_access_tokens_are_no_refresh_tokens(sessions: Sessions) -> None:
    pair = await sessions.issue("admin", 0)
    with pytest.raises(Unauthorized):
        await sessions.refresh(pair.access_token)
    with pytest.raises(Unauthorized):
        sessions.claims(pair.refresh_token, "access")


async def test_refresh_rotates_and_reuse_ends_the_family(sessions: Sessions, clock: FakeClock, tmp_path: Path) -> None:
    first = await sessions.issue("admin", 0)
    second = await sessions.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    third = await sessions.refresh(second.refresh_token)
    await clock.advance(REUSE_GRACE + 1)
    with pytest.raises(Unauthorized, match="already used"):
        await sessions.refresh(first.refresh_token)  # a stolen copy
    with pytest.raises(Unauthorized):
        await sessions.refresh(third.refresh_token)  # the whole family has ended
    conn = sqlite3.connect(tmp_path / "switchboard.db")
    actions = [row[0] for row in conn.execute("SELECT action FROM audit")]
    assert actions == ["admin.refresh_reuse"]
    stored = [row[0] for row in conn.execute("SELECT digest FROM refresh_tokens")]
    assert all(isinstance(d, bytes) and len(d) == 32 for d in stored)  # hashes only
    assert third.refresh_token.encode() not in (tmp_path / "switchboard.db").read_bytes()


async def test_two_simultaneous_refreshes_give_one_success_and_keep_the_family(sessions: Sessions) -> None:
    pair = await sessions.issue("admin", 0)
    results = await asyncio.gather(*(sessions.refresh(pair.refresh_token) for _ in range(2)), return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1 and isinstance(next(r for r in results if r not in winners), Unauthorized)
    assert await sessions.refresh(winners[0].refresh_token)  # the family lives on


def test_a_short_secret_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        Sessions(b"x" * 63, Database(tmp_path, b"a" * 32, clock), clock)


def test_rotating_the_secret_ends_every_token(sessions: Sessions, clock: FakeClock, tmp_path: Path) -> None:
    token = jwt.encode(claims(clock), SECRET, algorithm="HS512")
    rotated = Sessions(bytes(reversed(range(64))), Database(tmp_path / "x", b"a" * 32, clock), clock)
    with pytest.raises(Unauthorized):
        rotated.claims(token, "access")


async def test_a_new_generation_refuses_every_earlier_token(sessions: Sessions, database: Database) -> None:
    """S19, S20: what a password change does (it moves the generation on with the new hash)."""
    pair = await sessions.issue("admin", 0)
    renewed = await sessions.refresh(pair.refresh_token)
    assert (await sessions.access(renewed.access_token))["sub"] == "admin"
    database.writer.run(lambda conn: conn.execute("UPDATE admin SET generation = generation + 1")).result()
    for token in (pair.access_token, renewed.access_token):
        with pytest.raises(Unauthorized, match="password changed"):
            await sessions.access(token)
    with pytest.raises(Unauthorized, match="revoked"):
        await sessions.refresh(renewed.refresh_token)
    fresh = await sessions.issue("admin", 1)
    assert (await sessions.access(fresh.access_token))["sub"] == "admin"
    stranger = await sessions.issue("nobody", 0)
    with pytest.raises(Unauthorized):
        await sessions.access(stranger.access_token)
