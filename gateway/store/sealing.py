"""Encryption of the secrets file under a passphrase (SECURITY.md S31), for machines without a
working keychain whose owner opts in.

The passphrase goes through Argon2id (RFC 9106's low-memory profile: 64 MiB, t=3, p=4 — the
admin password's parameters) with a random 16-byte salt into a 256-bit AES-GCM key, once per
open. Each write uses a fresh 96-bit nonce; the header (format, KDF parameters, salt) is the
associated data, so it cannot be swapped without the tag failing. The key and salt stay fixed for
the life of the file, so a CLI and a running gateway that opened it with the same passphrase can
both write it.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "switchboard-secrets"
VERSION = 1
_KDF = {"name": "argon2id", "time_cost": 3, "memory_cost": 65536, "parallelism": 4}
_LIMITS = {"time_cost": (1, 10), "memory_cost": (8192, 1048576), "parallelism": (1, 16)}


class SealBroken(Exception):
    """The file cannot be opened: wrong passphrase, altered, or not one of ours."""


class PassphraseRefused(SealBroken):
    """The file is one of ours but the passphrase does not open it (or its contents were altered:
    the two cannot be told apart)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _header_of(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise SealBroken("not a Switchboard secrets file of a known version")
    kdf = data.get("kdf")
    if not isinstance(kdf, dict) or kdf.get("name") != "argon2id" or not isinstance(kdf.get("salt"), str):
        raise SealBroken("its key derivation is not Argon2id")
    for name, (low, high) in _LIMITS.items():
        value = kdf.get(name)
        if type(value) is not int or not low <= value <= high:  # bounds: a crafted file cannot make us hash for hours
            raise SealBroken(f"its key derivation's {name} is out of bounds")
    return {"format": FORMAT, "version": VERSION, "kdf": kdf}


def fresh_header() -> dict[str, Any]:
    """A new seal's header: today's parameters and a random salt."""
    return {"format": FORMAT, "version": VERSION, "kdf": {**_KDF, "salt": _b64(os.urandom(16))}}


@dataclass(frozen=True, slots=True)
class Seal:
    header: dict[str, Any]
    key: bytes

    @classmethod
    def for_file(cls, path: Path, passphrase: str) -> Seal:
        """The seal of the file at ``path`` (its salt and parameters), or of a new one."""
        try:
            header = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            header = fresh_header()
        except (OSError, ValueError) as exc:
            raise SealBroken(f"unreadable ({exc.__class__.__name__})") from None
        return cls.derived(header, passphrase)

    @classmethod
    def derived(cls, header: Any, passphrase: str) -> Seal:
        """The seal a ``header`` (salt and parameters, checked here) and ``passphrase`` make.
        Blocking for a moment: Argon2id takes 64 MiB."""
        header = _header_of(header)
        kdf = header["kdf"]
        try:
            salt = base64.b64decode(kdf["salt"], validate=True)
        except ValueError:
            raise SealBroken("its salt is not base64") from None
        key = hash_secret_raw(
            passphrase.encode("utf-8"),
            salt,
            time_cost=kdf["time_cost"],
            memory_cost=kdf["memory_cost"],
            parallelism=kdf["parallelism"],
            hash_len=32,
            type=Type.ID,
        )
        return cls(header, key)

    def _aad(self) -> bytes:
        return json.dumps(self.header, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def close(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.key).encrypt(nonce, plaintext.encode("utf-8"), self._aad())
        return json.dumps({**self.header, "cipher": "aes-256-gcm", "nonce": _b64(nonce), "data": _b64(sealed)})

    def open(self, text: str) -> str:
        try:
            data = json.loads(text)
            header = _header_of(data)
            nonce, sealed = (
                base64.b64decode(data["nonce"], validate=True),
                base64.b64decode(data["data"], validate=True),
            )
        except (ValueError, KeyError, TypeError):
            raise SealBroken("not a Switchboard secrets file of a known version") from None
        if header != self.header or data.get("cipher") != "aes-256-gcm":
            raise SealBroken("it was rewritten under another passphrase since it was opened")
        try:
            return AESGCM(self.key).decrypt(nonce, sealed, self._aad()).decode("utf-8")
        except InvalidTag:
            raise PassphraseRefused("the passphrase does not open it (or the file was altered)") from None
