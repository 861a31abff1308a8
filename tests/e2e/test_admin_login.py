"""The admin's sign-in over HTTP: bootstrapped from the environment on the first run, a JWT pair
on login, rotation on refresh, one error for a wrong name or password, every attempt audited."""

from __future__ import annotations

import argparse
import asyncio
import io
import sqlite3
import threading
from typing import Any

import aiohttp
import pytest
from argon2 import PasswordHasher
from conftest import StartGateway

from gateway import GatewayServer, StatePaths
from gateway.auth.passwords import Passwords
from gateway.cli.admin import cmd_admin
from gateway.runtime.server import ListenError

PASSWORD = "correct horse battery staple"
FAST = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))  # the real one is tested alone


async def post(gateway: GatewayServer, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}{path}", json=body, headers=headers or {}) as r,
    ):
        return r.status, await r.json()


async def get(gateway: GatewayServer, path: str, token: str) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{gateway.url}{path}", headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        return r.status


async def test_sign_in_refresh_and_use_admin_routes(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(admin_password=PASSWORD, passwords=FAST)
    status, tokens = await post(gateway, "/admin/auth/login", {"username": "admin", "password": PASSWORD})
    assert status == 200 and tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert await get(gateway, "/admin/keys", tokens["access_token"]) == 200
    assert await get(gateway, "/admin/keys", tokens["refresh_token"]) == 401  # not an access token
    status, renewed = await post(gateway, "/admin/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert status == 200 and renewed["refresh_token"] != tokens["refresh_token"]
    status, refused = await post(gateway, "/admin/auth/refresh", {"refresh_token": tokens["access_token"]})
    assert status == 401 and refused["error"]["type"] == "authentication_error"


async def test_a_wrong_name_or_password_is_one_answer_and_is_audited(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(admin_password=PASSWORD, passwords=FAST)
    wrong_password = await post(gateway, "/admin/auth/login", {"username": "admin", "password": "not the password"})
    wrong_name = await post(gateway, "/admin/auth/login", {"username": "root", "password": PASSWORD})
    assert wrong_password == wrong_name and wrong_password[0] == 401
    status, body = await post(gateway, "/admin/auth/login", {"username": "admin", "password": "x" * 1_000_000})
    assert status in (400, 413) and body["error"]["type"] == "invalid_request_error"  # refused before hashing
    assert (await post(gateway, "/admin/auth/login", {"username": "admin", "password": PASSWORD}))[0] == 200
    assert gateway.state is not None
    gateway.state.db.writer.flush()
    conn = sqlite3.connect(gateway.state.db.path)
    events = conn.execute("SELECT actor, action, payload FROM audit ORDER BY seq").fetchall()
    assert [e[1] for e in events] == [
        "admin.created",
        "gateway.started",
        "admin.login_failed",
        "admin.login_failed",
        "admin.login",
    ]
    assert PASSWORD not in str(events) and "not the password" not in str(events)


async def test_a_failed_sign_in_is_audited_with_its_peer_not_what_was_typed(start_gateway: StartGateway) -> None:
    """SECURITY.md S16 (issue 20, item 9): the password typed into the name field stays nowhere."""
    gateway = await start_gateway(admin_password=PASSWORD, passwords=FAST)
    assert (await post(gateway, "/admin/auth/login", {"username": PASSWORD, "password": "admin"}))[
        0
    ] == 401  # fields swapped
    assert gateway.state is not None
    gateway.state.db.writer.flush()
    conn = sqlite3.connect(gateway.state.db.path)
    failed = conn.execute("SELECT actor, payload FROM audit WHERE action = 'admin.login_failed'").fetchall()
    assert failed == [("anonymous", '{"peer":"127.0.0.1"}')]
    stored = b"".join(p.read_bytes() for p in gateway.state.data_dir.iterdir() if p.is_file())
    assert PASSWORD.encode() not in stored


async def test_changing_the_password_ends_every_session_at_once(
    start_gateway: StartGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SECURITY.md S19, S20 (issue 20, item 8): ``admin password``, run while the gateway serves,
    ends the sessions signed in before it then and there, access tokens as well as refresh tokens
    (not when the access token lapses, 15 minutes on)."""
    gateway = await start_gateway(admin_password=PASSWORD, passwords=FAST)
    _, before = await post(gateway, "/admin/auth/login", {"username": "admin", "password": PASSWORD})
    _, renewed = await post(gateway, "/admin/auth/refresh", {"refresh_token": before["refresh_token"]})
    assert await get(gateway, "/admin/keys", before["access_token"]) == 200
    assert gateway.state is not None
    state = gateway.state
    # The CLI, as another process runs it: its own database connection, the same secret store.
    monkeypatch.setattr("sys.stdin", io.StringIO("a new admin password, long enough\n"))
    paths = StatePaths(
        config_dir=state.data_dir.parent, data_dir=state.data_dir, log_dir=state.data_dir.parent / "logs"
    )
    args = argparse.Namespace(open_secrets=lambda _: state.secrets, config=None)
    assert await asyncio.to_thread(cmd_admin, args, paths) == 0
    for token in (before["access_token"], renewed["access_token"]):
        assert await get(gateway, "/admin/keys", token) == 401
        status, refused = await post(
            gateway, "/admin/keys", {"label": "after the change", "tier": "admin"}, {"Authorization": f"Bearer {token}"}
        )
        assert status == 401 and "password changed" in refused["error"]["message"]
    assert (await post(gateway, "/admin/auth/refresh", {"refresh_token": renewed["refresh_token"]}))[0] == 401
    assert (await post(gateway, "/admin/auth/login", {"username": "admin", "password": PASSWORD}))[0] == 401
    status, after = await post(
        gateway, "/admin/auth/login", {"username": "admin", "password": "a new admin password, long enough"}
    )
    assert status == 200 and await get(gateway, "/admin/keys", after["access_token"]) == 200
    assert state.keys.listing() == []  # no key was made with an old token


async def test_a_weak_stored_hash_is_upgraded_at_sign_in(start_gateway: StartGateway) -> None:
    weak = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    gateway = await start_gateway(admin_password=PASSWORD, passwords=weak)
    assert gateway.state is not None
    gateway.state.admin._passwords = Passwords(PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1))
    assert (await post(gateway, "/admin/auth/login", {"username": "admin", "password": PASSWORD}))[0] == 200
    gateway.state.db.writer.flush()
    (phc,) = sqlite3.connect(gateway.state.db.path).execute("SELECT phc FROM admin").fetchone()
    assert "m=19456,t=2" in phc


class _Where(PasswordHasher):
    """A hasher that notes the thread each hash is made in."""

    def __init__(self) -> None:
        super().__init__(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        self.threads: list[int] = []

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.threads.append(threading.get_ident())
        return super().hash(password, salt=salt)


async def test_the_upgrade_of_a_weak_stored_hash_is_made_off_the_event_loop(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(admin_password=PASSWORD, passwords=FAST)
    assert gateway.state is not None
    gateway.state.admin._passwords = Passwords(where := _Where())
    assert (await post(gateway, "/admin/auth/login", {"username": "admin", "password": PASSWORD}))[0] == 200
    assert len(where.threads) == 1 and threading.get_ident() not in where.threads  # Argon2: every answer waits


async def test_without_a_password_nobody_can_sign_in(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(passwords=FAST)
    assert (await post(gateway, "/admin/auth/login", {"username": "admin", "password": PASSWORD}))[0] == 401


async def test_a_short_password_from_the_environment_stops_the_start(start_gateway: StartGateway) -> None:
    with pytest.raises(ListenError, match="at least 12"):
        await start_gateway(admin_password="short", passwords=FAST)
