"""Client keys the gateway issues: their format, their keyed hash, and checking one presented.

A key reads ``sk-sb-<id>_<secret>_<check>``:

- ``sk-sb-`` lets secret scanners recognise it;
- ``<id>`` (12 base32 characters) finds the stored row, and with the last 4 characters is all that
  is ever shown again;
- ``<secret>`` is 32 base62 characters, about 190 bits from the OS's CSPRNG;
- ``<check>`` is a CRC-32 of the rest, so a mistyped or made-up key is refused without a lookup.

Only HMAC-SHA-256(pepper, key) is stored; the pepper lives in the keychain. The secret is
high-entropy, so a fast keyed hash is enough; the digests are compared in constant time.
"""

from __future__ import annotations

import hmac
import re
import secrets
import zlib
from dataclasses import dataclass
from hashlib import sha256

PREFIX = "sk-sb-"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_SHAPE = re.compile(r"sk-sb-([a-z2-7]{12})_([0-9A-Za-z]{32})_([0-9A-Za-z]{6})")
_ID_SHAPE = re.compile(r"[a-z2-7]{12}")
SECRET_LENGTH = 32
LONGEST = 64  # characters: anything longer is not one of ours, whatever it holds


@dataclass(frozen=True, slots=True)
class NewKey:
    id: str
    key: str  # shown once, never stored

    @property
    def last4(self) -> str:
        return self.key[-4:]


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


def _check(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), 6)


def generate() -> NewKey:
    key_id = "".join(secrets.choice(_BASE32) for _ in range(12))
    secret = "".join(secrets.choice(_BASE62) for _ in range(SECRET_LENGTH))
    body = f"{PREFIX}{key_id}_{secret}"
    return NewKey(key_id, f"{body}_{_check(body)}")


def key_id_of(presented: str) -> str | None:
    """The id of a well-formed key with a good checksum; None for anything else."""
    if len(presented) > LONGEST or not presented.startswith(PREFIX):
        return None
    match = _SHAPE.fullmatch(presented)
    if match is None or _check(presented[:-7]) != match.group(3):
        return None
    return match.group(1)


def looks_like_ours(presented: str) -> bool:
    """Whether a value claims to be a Switchboard key (then it must be a valid one)."""
    return presented.startswith(PREFIX)


def valid_id(key_id: str) -> bool:
    return bool(_ID_SHAPE.fullmatch(key_id))


def digest(pepper: bytes, key: str) -> bytes:
    return hmac.new(pepper, key.encode("ascii"), sha256).digest()


def matches(pepper: bytes, presented: str, stored: bytes) -> bool:
    return hmac.compare_digest(digest(pepper, presented), stored)
