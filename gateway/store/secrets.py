"""Where secrets live: the OS keychain through ``keyring``, or, where no keychain works, a file
only the owner can read, said plainly in status and in the app.

Secrets kept here: the pepper that keys client-key hashes, the JWT signing secret, the audit
anchor key (and, as they arrive, provider keys and OAuth tokens). Entries are namespaced by the
data folder, so two state folders on one machine never share secrets. Every ``keyring`` failure
is a ``KeyringError`` (no backend, locked, dismissed prompt): any of them means the fallback.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import secrets
from pathlib import Path
from typing import Protocol

from gateway.paths import write_private

log = logging.getLogger("gateway.store")

FILE_NAME = "secrets.json"
SERVICE = "Switchboard"


class SecretStore(Protocol):
    kind: str  # "keychain" or "file", shown in status
    where: str  # what a person would look for: the backend's name or the file's path

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


class KeyringSecrets:
    kind = "keychain"

    def __init__(self, namespace: str) -> None:
        import keyring

        self._keyring = keyring
        self._service = f"{SERVICE}:{namespace}"
        self.where = type(keyring.get_keyring()).__module__

    def get(self, name: str) -> str | None:
        value: str | None = self._keyring.get_password(self._service, name)
        return value

    def set(self, name: str, value: str) -> None:
        self._keyring.set_password(self._service, name, value)

    def delete(self, name: str) -> None:
        from keyring.errors import PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError):
            self._keyring.delete_password(self._service, name)


class FileSecrets:
    """A JSON file created 0600 in the (0700) data folder, replaced whole on every change."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        self._path = path
        self.where = str(path)

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}

    def _save(self, data: dict[str, str]) -> None:
        write_private(self._path, json.dumps(data))

    def get(self, name: str) -> str | None:
        return self._load().get(name)

    def set(self, name: str, value: str) -> None:
        self._save({**self._load(), name: value})

    def delete(self, name: str) -> None:
        data = self._load()
        if data.pop(name, None) is not None:
            self._save(data)


class MemorySecrets:
    """For tests and for callers that must not persist anything."""

    kind = "memory"
    where = "memory"

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


def open_secrets(data_dir: Path) -> SecretStore:
    """The keychain when a round trip through it works, else the file beside the database
    (logged at debug level only: the serve banner and status say where secrets are).

    Once the file holds secrets it stays the store (a keychain that appears later would not have
    them), until a person moves them.
    """
    fallback = FileSecrets(data_dir / FILE_NAME)
    if (data_dir / FILE_NAME).exists():
        return fallback
    namespace = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    try:
        from keyring.errors import KeyringError

        store = KeyringSecrets(namespace)
        probe = secrets.token_hex(8)
        store.set("probe", probe)
        works = store.get("probe") == probe
        store.delete("probe")
    except (ImportError, KeyringError, RuntimeError) as exc:
        log.debug("no working keychain (%s); secrets are kept in %s, readable only by you", exc, fallback.where)
        return fallback
    if not works:
        log.debug("the keychain does not keep secrets; they are kept in %s, readable only by you", fallback.where)
        return fallback
    return store


def ensure(store: SecretStore, name: str, make: int) -> str:
    """The secret ``name``, created (``make`` random bytes, hex) the first time it is asked for."""
    value = store.get(name)
    if value is None:
        value = secrets.token_hex(make)
        store.set(name, value)
    return value
