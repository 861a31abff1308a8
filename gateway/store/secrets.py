"""Where secrets live: the OS keychain through ``keyring``; where no keychain works, a file only
the owner can read, said plainly at start, in status and in the app; or, for whoever opts in with
a passphrase, that file encrypted; or, asked for, nowhere (kept in memory until the gateway stops).

Secrets kept here: the pepper that keys client-key hashes, the JWT signing secret, the audit
anchor key, provider keys and OAuth tokens. Keychain entries are namespaced by the data folder, so
two state folders on one machine never share secrets. Every ``keyring`` failure is a
``KeyringError`` (no backend, locked, dismissed prompt): any of them means the fallback.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gateway.errors import ConfigError, Fix
from gateway.paths import write_private

if TYPE_CHECKING:  # imported when a passphrase is given: the AES and Argon2 libraries cost the start
    from gateway.store.sealing import Seal

log = logging.getLogger("gateway.store")

FILE_NAME = "secrets.json"
SEALED_FILE_NAME = "secrets.enc"
SERVICE = "Switchboard"
PASSPHRASE_ENV = "SWITCHBOARD_SECRETS_PASSPHRASE"
PASSPHRASE_FILE_ENV = "SWITCHBOARD_SECRETS_PASSPHRASE_FILE"
KEEP_ENV = "SWITCHBOARD_SECRETS"  # "memory": keep no secret on disk, nor in the keychain
SHORTEST_PASSPHRASE = 12


class SecretStore(Protocol):
    kind: str  # "keychain" or "file", shown in status
    where: str  # what a person would look for: the backend's name or the file's path

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


class SecretsUnreadable(ConfigError):
    """The secrets file is there but cannot be read (not UTF-8, not JSON, not an object). Nothing
    starts over it and nothing writes it: new secrets in its place would orphan every client key,
    session and stored provider key it keys. ``set_aside`` is the fix a person may choose (the app
    offers it): the file moves out of the way, kept, and the next start makes new secrets."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        self.message = (
            f"the secrets file {path} cannot be read ({why}), so the gateway does not start: restore it from a backup, "
            "or move it aside to start with new secrets (client keys, the admin password and stored provider keys "
            "must then be set again)"
        )
        super().__init__(self.message, fix=Fix("set_aside_secrets"))

    def set_aside(self) -> Path:
        """Rename the file beside itself, never over another file; where it went."""
        n = 1
        while (target := self.path.with_name(f"{self.path.name}.unreadable-{n}")).exists():
            n += 1
        self.path.rename(target)
        log.warning(
            "the unreadable secrets file %s is kept as %s; new secrets are made in its place", self.path, target
        )
        return target


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
    """A JSON file created 0600 in the (0700) data folder, replaced whole on every change and read
    again for every lookup (the CLI and a running gateway may both write it). With a ``seal`` the
    file holds the JSON encrypted."""

    def __init__(self, path: Path, seal: Seal | None = None) -> None:
        self._path = path
        self._seal = seal
        self.kind = "file" if seal is None else "encrypted file"
        self.where = str(path)

    def _load(self) -> dict[str, str]:
        """What the file holds; raises ``SecretsUnreadable`` rather than take a broken file for
        an empty one (which the next ``set`` would write over)."""
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except UnicodeDecodeError:
            raise SecretsUnreadable(self._path, "it is not UTF-8 text") from None
        opened = self._seal.open(text) if self._seal is not None else text
        try:
            data = json.loads(opened)
        except json.JSONDecodeError as exc:
            raise SecretsUnreadable(
                self._path, f"it is not valid JSON: line {exc.lineno}, column {exc.colno}"
            ) from None
        if not isinstance(data, dict):
            raise SecretsUnreadable(self._path, "it holds no JSON object")
        return {k: v for k, v in data.items() if isinstance(v, str)}

    def _save(self, data: dict[str, str]) -> None:
        text = json.dumps(data)
        write_private(self._path, self._seal.close(text) if self._seal is not None else text)

    def names(self) -> list[str]:
        return list(self._load())

    def get(self, name: str) -> str | None:
        return self._load().get(name)

    def set(self, name: str, value: str) -> None:
        self._save({**self._load(), name: value})

    def delete(self, name: str) -> None:
        data = self._load()
        if data.pop(name, None) is not None:
            self._save(data)


class MemorySecrets:
    """For tests, and for a gateway told to keep no secret (``SWITCHBOARD_SECRETS=memory``)."""

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


def open_secrets(data_dir: Path, passphrase: str | None = None, *, keep: bool = True) -> SecretStore:
    """The store for ``data_dir``. With a ``passphrase`` (or when the folder already has an
    encrypted file): that file, taking in what a plain file held. Else a plain file already
    there, or the keychain when a round trip through it works, or a new plain file (which the
    gateway's start warns of, naming the way to encrypt it). ``keep=False``: memory only.

    Once a file holds secrets it stays the store (a keychain that appears later would not have
    them), until a person moves them. Raises ``ConfigError`` for a missing or wrong passphrase,
    ``SecretsUnreadable`` for a file that cannot be read (said now, not at first use).
    """
    if not keep:
        return MemorySecrets()
    plain, sealed = data_dir / FILE_NAME, data_dir / SEALED_FILE_NAME
    if passphrase is not None or sealed.exists():
        return _sealed_store(sealed, plain, passphrase)
    fallback = FileSecrets(plain)
    if plain.exists():
        fallback.names()
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
        works, why = False, str(exc)
    else:
        why = "it does not keep what is written to it"
    if not works:
        log.debug("no working keychain (%s)", why)  # the start says where secrets went, once logging is set up
        return fallback
    return store


def open_sealed(data_dir: Path, passphrase: str) -> SecretStore:
    """The encrypted store of ``data_dir`` opened with a passphrase given after start (the app asks
    for it): a wrong one is refused with ``ConfigError``, and no encrypted file is made where
    there is none (that is opting in, which a passphrase given at start does)."""
    sealed = data_dir / SEALED_FILE_NAME
    if not sealed.exists():
        raise ConfigError("There are no encrypted saved keys here to unlock.", detail=f"{sealed} does not exist")
    return _sealed_store(sealed, data_dir / FILE_NAME, passphrase)


def _sealed_store(sealed: Path, plain: Path, passphrase: str | None) -> FileSecrets:
    from gateway.store.sealing import PassphraseRefused, Seal, SealBroken

    if passphrase is None:
        raise ConfigError(
            "The saved keys are encrypted with a passphrase, and none was given.",
            fix=Fix("unlock_secrets"),
            detail=f"{sealed}: its passphrase is read from {PASSPHRASE_FILE_ENV} (a file) or {PASSPHRASE_ENV}",
        )
    try:
        store = FileSecrets(sealed, Seal.for_file(sealed, passphrase))
        store.names()  # opens it now: a wrong passphrase is said at start, not at first use
    except PassphraseRefused as exc:
        raise ConfigError(
            "That passphrase does not open the saved keys.", fix=Fix("unlock_secrets"), detail=f"{sealed}: {exc}"
        ) from None
    except SealBroken as exc:  # not one of ours, or its header altered: no passphrase opens it
        raise SecretsUnreadable(sealed, str(exc)) from None
    if plain.exists():  # opting in: what the plain file held moves into the encrypted one
        old = FileSecrets(plain)
        for name in old.names():
            if store.get(name) is None:
                store.set(name, old.get(name) or "")
        plain.unlink()
        log.warning("secrets moved from %s into %s (encrypted)", plain, sealed)
    return store


def opener_from(env: MutableMapping[str, str]) -> Callable[[Path], SecretStore]:
    """How this process opens secret stores, from its environment. The passphrase variable is
    taken out of ``env`` (``os.environ``: no child process inherits it); a passphrase file is
    read instead where one is named. Raises ``ConfigError`` for a passphrase too short."""
    passphrase = env.pop(PASSPHRASE_ENV, None)
    if (in_file := passphrase_in_file(env)) is not None:
        passphrase = in_file
    if passphrase is not None and len(passphrase) < SHORTEST_PASSPHRASE:
        raise ConfigError(f"the secrets passphrase must be at least {SHORTEST_PASSPHRASE} characters")
    keep = env.get(KEEP_ENV, "").strip().lower() != "memory"
    return functools.partial(open_secrets, passphrase=passphrase, keep=keep)


def passphrase_in_file(env: Mapping[str, str]) -> str | None:
    """The passphrase in the file ``PASSPHRASE_FILE_ENV`` names (None: it names none); the team's
    gateways, each given the same file, also seal their accounts' tokens with it. Raises
    ``ConfigError`` when the file cannot be read."""
    named = env.get(PASSPHRASE_FILE_ENV, "").strip()
    if not named:
        return None
    try:
        return Path(named).expanduser().read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            "Switchboard cannot read the file holding the secrets passphrase.",
            detail=f"{PASSPHRASE_FILE_ENV}={named}: {exc.__class__.__name__}",
        ) from None


def place_of(kind: str, where: str) -> tuple[str, str]:
    """Where secrets are kept, and what a person should know of it: for the serve banner, status
    and the app."""
    if kind == "keychain":
        return "the system keychain", ""
    if kind == "encrypted file":
        return where, "encrypted with your passphrase"
    if kind == "memory":
        return "memory only", "they are gone when the gateway stops"
    return where, "readable only by you but not encrypted (this computer has no working keychain)"


def described(kind: str, where: str) -> str:
    return ", ".join(part for part in place_of(kind, where) if part)


def encrypting_hint(kind: str) -> str:
    """For a terminal and the log (never a window): how a plain secrets file is encrypted instead."""
    return f"; set {PASSPHRASE_FILE_ENV} to encrypt it" if kind == "file" else ""


def ensure(store: SecretStore, name: str, make: int) -> str:
    """The secret ``name``, created (``make`` random bytes, hex) the first time it is asked for."""
    value = store.get(name)
    if value is None:
        value = secrets.token_hex(make)
        store.set(name, value)
    return value
