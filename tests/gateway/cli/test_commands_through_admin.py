"""Every CLI command that reads or changes the gateway's state goes through the admin door the
admin routes and the app use (gateway.admin), never around it to the database: each door method
a command should use is spied on, and the command must succeed having called it. A command that
went to the store directly would succeed without the call."""

from __future__ import annotations

import asyncio
import inspect
import io
from pathlib import Path
from typing import Any

import pytest

from gateway.admin.accounts import Accounts
from gateway.admin.admin_login import AdminLogin
from gateway.admin.audit import AuditLog
from gateway.admin.client_keys import ClientKeys
from gateway.admin.provider_keys import ProviderKeys
from gateway.admin.state import State
from gateway.admin.usage import Usage
from gateway.cli import main as cli
from gateway.clock import SystemClock
from gateway.store.secrets import MemorySecrets, SecretStore

STDIN = "sk-a-new-secret-long-enough-01\n"  # what admin password and providers set-key read: one line
KEY_ID = "{key_id}"

CASES: list[tuple[list[str], type, str]] = [
    (["keys", "create", "--label", "laptop"], ClientKeys, "create"),
    (["keys", "list"], ClientKeys, "listing"),
    (["keys", "revoke", KEY_ID], ClientKeys, "revoke"),
    (["usage"], Usage, "report"),
    (["report", "--view", "by-model"], Usage, "report"),
    (["audit", "verify"], AuditLog, "verify"),
    (["audit", "export"], AuditLog, "export"),
    (["admin", "password"], AdminLogin, "set_password"),
    (["providers", "set-key", "groq"], ProviderKeys, "store"),
    (["providers", "remove-key", "groq"], ProviderKeys, "drop"),
    (["accounts", "list"], Accounts, "listing"),
]


def spy(monkeypatch: pytest.MonkeyPatch, door: type, name: str) -> list[str]:
    """Record each call of ``door.name`` (then made as usual)."""
    calls: list[str] = []
    original = getattr(door, name)

    async def called_async(self: object, *args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return await original(self, *args, **kwargs)

    def called(self: object, *args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(door, name, called_async if inspect.iscoroutinefunction(original) else called)
    return calls


def made_state(home: Path, secrets: SecretStore) -> str:
    """A state folder with one client key and one stored provider key; the key's id."""
    data = home / "data"
    data.mkdir(mode=0o700, parents=True)
    state = State(data, secrets, SystemClock())
    state.open()
    try:
        created = asyncio.run(ClientKeys(state).create("first", "standard", {}, "test"))
        asyncio.run(ProviderKeys(state, None, None).store("groq", ("gsk_stored_key_000000001",), "test"))
    finally:
        state.close()
    return created["id"]


@pytest.mark.parametrize(
    ("argv", "door", "method"), CASES, ids=[" ".join([w for w in c[0] if w[0] != "-"][:2]) for c in CASES]
)
def test_the_command_calls_its_admin_door(
    argv: list[str], door: type, method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = MemorySecrets()  # one store for the setup and the command, as the keychain would be
    key_id = made_state(tmp_path, secrets)
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: secrets)
    monkeypatch.setattr("sys.stdin", io.StringIO(STDIN))
    for name in ("OPENAI_API_KEY", "GROQ_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLLAMA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path))
    calls = spy(monkeypatch, door, method)
    args = [a.format(key_id=key_id) for a in argv]
    assert cli.main(args) == 0
    assert calls, f"'{' '.join(args)}' did not go through {door.__name__}.{method}"
