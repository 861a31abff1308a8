"""SECURITY.md S31 without a keychain: the plain file only with a warning, the encrypted file for
whoever gives a passphrase (taking in what the plain file held), memory only when asked; no
canary byte on disk once encrypted; a wrong passphrase or an altered file said at open."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import ConfigError, Fix
from gateway.store import sealing
from gateway.store.secrets import (
    FILE_NAME,
    KEEP_ENV,
    PASSPHRASE_ENV,
    PASSPHRASE_FILE_ENV,
    SEALED_FILE_NAME,
    FileSecrets,
    MemorySecrets,
    SecretsUnreadable,
    described,
    encrypting_hint,
    open_secrets,
    opener_from,
)

CANARY = "sk-ant-canarySEALEDsecret5e1f9a"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def no_keychain(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's own 'fail' backend: what a headless Linux server without Secret Service has."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)


def on_disk(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_without_a_keychain_the_plain_file_is_said_with_the_way_out(tmp_path: Path) -> None:
    store = open_secrets(tmp_path)
    assert store.kind == "file"
    assert "not encrypted" in described(store.kind, store.where)  # a window's words: no variable named
    assert PASSPHRASE_FILE_ENV in encrypting_hint(store.kind)  # a terminal's and the log's way out
    store.set("provider-key", CANARY)
    assert (tmp_path / FILE_NAME).stat().st_mode & 0o777 == 0o600


def test_a_passphrase_seals_the_file_and_nothing_readable_is_left(tmp_path: Path) -> None:
    store = open_secrets(tmp_path, PASSPHRASE)
    assert store.kind == "encrypted file" and "encrypted with your passphrase" in described(store.kind, store.where)
    store.set("provider-key", CANARY)
    store.set("other", "x")
    store.delete("other")
    sealed = tmp_path / SEALED_FILE_NAME
    assert sealed.stat().st_mode & 0o777 == 0o600
    assert CANARY.encode() not in on_disk(tmp_path) and base64.b64encode(CANARY.encode()) not in on_disk(tmp_path)
    header = json.loads(sealed.read_text())
    assert (
        header["kdf"]["name"] == "argon2id"
        and header["kdf"]["memory_cost"] == 65536
        and header["cipher"] == "aes-256-gcm"
    )
    again = open_secrets(tmp_path, PASSPHRASE)  # a later start, or the CLI beside the running gateway
    assert again.get("provider-key") == CANARY and again.get("other") is None
    again.set("from-the-cli", "y")
    assert store.get("from-the-cli") == "y"  # each lookup reads the file: neither overwrites the other


def test_opting_in_takes_in_the_plain_file_and_removes_it(tmp_path: Path) -> None:
    FileSecrets(tmp_path / FILE_NAME).set("client-key-pepper", CANARY)
    store = open_secrets(tmp_path, PASSPHRASE)
    assert store.get("client-key-pepper") == CANARY
    assert not (tmp_path / FILE_NAME).exists() and CANARY.encode() not in on_disk(tmp_path)


def test_an_encrypted_folder_needs_its_passphrase_and_only_that_one(tmp_path: Path) -> None:
    open_secrets(tmp_path, PASSPHRASE).set("k", CANARY)
    with pytest.raises(ConfigError, match="encrypted with a passphrase") as refused:
        open_secrets(tmp_path)  # never a silent start over a new, empty store
    assert PASSPHRASE_FILE_ENV in refused.value.detail
    with pytest.raises(ConfigError, match="passphrase does not open the saved keys") as wrong:
        open_secrets(tmp_path, "another passphrase entirely")
    assert wrong.value.fix == Fix("unlock_secrets") and "entirely" not in str(wrong.value) + wrong.value.detail


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: {**d, "data": base64.b64encode(b"\x00" + base64.b64decode(d["data"])[1:]).decode()},
            "does not open the saved keys",
        ),
        (lambda d: {**d, "kdf": {**d["kdf"], "time_cost": 4}}, "does not open the saved keys"),
        (lambda d: {**d, "kdf": {**d["kdf"], "memory_cost": 1 << 30}}, "out of bounds"),  # no hour-long hashing
        (lambda d: {**d, "version": 9}, "known version"),
        (lambda d: {**d, "nonce": "***"}, "known version"),
    ],
    ids=["ciphertext", "kdf-parameter", "huge-memory", "version", "nonce"],
)
def test_an_altered_file_is_refused_at_open(
    tmp_path: Path, edit: Callable[[dict[str, Any]], dict[str, Any]], message: str
) -> None:
    open_secrets(tmp_path, PASSPHRASE).set("k", CANARY)
    sealed = tmp_path / SEALED_FILE_NAME
    sealed.write_text(json.dumps(edit(json.loads(sealed.read_text()))))
    with pytest.raises(ConfigError, match=message):
        open_secrets(tmp_path, PASSPHRASE)


def test_the_passphrase_is_taken_out_of_the_environment_or_read_from_a_file(tmp_path: Path) -> None:
    env = {PASSPHRASE_ENV: PASSPHRASE, "HOME": "/home/x"}
    opener = opener_from(env)
    assert env == {"HOME": "/home/x"}  # so no child process inherits it
    assert opener(tmp_path).kind == "encrypted file"
    held = tmp_path / "passphrase"
    held.write_text(PASSPHRASE + "\n")
    assert opener_from({PASSPHRASE_FILE_ENV: str(held)})(tmp_path).get("anything") is None  # same passphrase: opens
    with pytest.raises(ConfigError, match="at least 12"):
        opener_from({PASSPHRASE_ENV: "short"})
    with pytest.raises(ConfigError, match="cannot read"):
        opener_from({PASSPHRASE_FILE_ENV: str(tmp_path / "missing")})


def test_memory_only_keeps_nothing_anywhere(tmp_path: Path) -> None:
    store = opener_from({KEEP_ENV: "memory"})(tmp_path)
    assert isinstance(store, MemorySecrets) and "gone when the gateway stops" in described(store.kind, store.where)
    store.set("k", CANARY)
    assert on_disk(tmp_path) == b""


def test_the_seal_binds_its_header(tmp_path: Path) -> None:
    seal = sealing.Seal.for_file(tmp_path / "new", PASSPHRASE)
    text = seal.close('{"a": "b"}')
    assert seal.open(text) == '{"a": "b"}'
    other = sealing.Seal.for_file(tmp_path / "other", PASSPHRASE)  # same passphrase, another salt
    with pytest.raises(sealing.SealBroken, match="another passphrase"):
        other.open(text)


def test_an_unreadable_file_is_a_typed_error_that_writes_nothing_and_can_be_set_aside(tmp_path: Path) -> None:
    """Issue 20, item 11: the app catches ``SecretsUnreadable`` (a ``ConfigError``, exported by
    ``gateway``) to offer the fix; until a person takes it, nothing is written over the file."""
    import gateway

    broken = b'{"client-key-pepper": "0a1b'
    path = tmp_path / FILE_NAME
    path.write_bytes(broken)
    with pytest.raises(gateway.SecretsUnreadable) as unreadable:
        open_secrets(tmp_path)
    error = unreadable.value
    assert isinstance(error, ConfigError) and error.path == path
    assert "\n" not in error.message and "not valid JSON: line 1, column 23" in error.message
    with pytest.raises(SecretsUnreadable):
        FileSecrets(path).set("jwt-secret", "ab" * 64)  # a later write refuses as well
    assert path.read_bytes() == broken
    moved = error.set_aside()
    assert moved == tmp_path / f"{FILE_NAME}.unreadable-1" and moved.read_bytes() == broken and not path.exists()
    path.write_bytes(b"\xff")
    with pytest.raises(SecretsUnreadable, match="not UTF-8") as again:
        FileSecrets(path).get("jwt-secret")
    assert again.value.set_aside().name == f"{FILE_NAME}.unreadable-2"  # never over the first
    store = open_secrets(tmp_path)  # the next start: new secrets, in a new file (no keychain here)
    store.set("jwt-secret", "cd" * 64)
    assert FileSecrets(path).get("jwt-secret") == "cd" * 64


def test_the_passphrase_given_after_start_is_checked_and_then_opens_the_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 22, item 5: the app started without the passphrase asks for it; ``GatewaySetup.unlock``
    refuses a wrong one in words that never repeat it, and the right one opens the secrets from
    then on, kept in memory only (nothing written, nothing logged, no variable set)."""
    from gateway import GatewaySetup, StatePaths, secrets_opener
    from gateway.store.provider_keys import set_keys

    paths = StatePaths(tmp_path / "config", tmp_path / "share", tmp_path / "logs")  # the platform's: movable
    paths.ensure()
    set_keys(open_secrets(paths.data_dir, PASSPHRASE), "openai", (CANARY,))
    env: dict[str, str] = {}
    setup = GatewaySetup(paths, env, port=0, secrets=secrets_opener(env), defaults=paths)
    with pytest.raises(ConfigError, match="encrypted with a passphrase") as locked:
        setup.settings()
    assert locked.value.fix == Fix("unlock_secrets")
    wrong = "not the passphrase at all"
    with pytest.raises(ConfigError, match="does not open the saved keys") as refused:
        setup.unlock(wrong)
    assert refused.value.fix == Fix("unlock_secrets") and wrong not in f"{refused.value} {refused.value.detail}"
    with caplog.at_level("DEBUG"):
        setup.unlock(PASSPHRASE)
        openai = next(p for p in setup.settings().providers if p.id == "openai")
        assert openai.keys == (CANARY,)  # the stored key is used
        setup.move(tmp_path / "moved")  # a later open, in another folder, uses the passphrase too
        assert setup.secrets().kind == "encrypted file" and setup.secrets().get("provider-key:openai") == CANARY
    assert PASSPHRASE not in caplog.text and env == {}
    assert PASSPHRASE.encode() not in on_disk(tmp_path)


def test_unlocking_makes_no_encrypted_file_where_there_is_none(tmp_path: Path) -> None:
    from gateway import GatewaySetup, resolve_paths

    paths = resolve_paths(tmp_path / "home", {})
    paths.ensure()
    with pytest.raises(ConfigError, match="no encrypted saved keys"):
        GatewaySetup(paths, {}).unlock(PASSPHRASE)
    assert not (paths.data_dir / SEALED_FILE_NAME).exists()


@pytest.mark.parametrize("sealed", [False, True], ids=["plain", "encrypted"])
def test_an_unreadable_file_offers_to_be_set_aside_and_is_kept(tmp_path: Path, sealed: bool) -> None:
    """The fix ``SecretsUnreadable`` carries, as the app makes it: the file renamed beside itself,
    kept byte for byte, and the next open starts with an empty store. An encrypted file no
    passphrase could open (not one of ours) is unreadable too, not a wrong passphrase."""
    from gateway import GatewaySetup, resolve_paths, secrets_opener

    paths = resolve_paths(tmp_path / "home", {})
    paths.ensure()
    broken = paths.data_dir / (SEALED_FILE_NAME if sealed else FILE_NAME)
    broken.write_text('{"format": "something else"}' if sealed else '{"jwt-secret": "', encoding="utf-8")
    before = broken.read_bytes()
    setup = GatewaySetup(paths, {}, secrets=secrets_opener({PASSPHRASE_ENV: PASSPHRASE} if sealed else {}))
    with pytest.raises(SecretsUnreadable) as unreadable:
        setup.secrets()
    assert unreadable.value.fix == Fix("set_aside_secrets")
    kept = setup.set_aside_secrets()
    assert kept is not None and kept.read_bytes() == before and not broken.exists()
    assert setup.secrets().get("jwt-secret") is None and setup.set_aside_secrets() is None  # opens now: nothing to do
