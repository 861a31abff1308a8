"""The admin's password: Argon2id (argon2-cffi's RFC 9106 low-memory profile: 64 MiB, t=3, p=4,
16-byte salt — above OWASP's minimum), hashed off the event loop, a few at a time.

A password under 12 characters is refused; one over 1 KiB is refused before hashing (hashing is
the expensive part an attacker would aim at). An unknown name is checked against a dummy hash,
so it costs the same as a wrong password.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.errors import InvalidRequest

SHORTEST = 12
LONGEST = 1024
CONCURRENT = 2


def check_new(password: str) -> None:
    if len(password) < SHORTEST:
        raise InvalidRequest(f"the admin password must be at least {SHORTEST} characters", param="password")
    if len(password.encode("utf-8")) > LONGEST:
        raise InvalidRequest(f"the admin password must be at most {LONGEST} bytes", param="password")


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None
        self._slots = asyncio.Semaphore(CONCURRENT)

    def hash(self, password: str) -> str:
        check_new(password)
        return self.hasher.hash(password)

    def verify(self, phc: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no stored hash, the same work on a dummy one."""
        if phc is None:
            if self._dummy is None:
                self._dummy = self.hasher.hash("switchboard-dummy-password")
            phc = self._dummy
            password = password + "\x00"  # never matches the dummy
        try:
            return bool(self.hasher.verify(phc, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def outdated(self, phc: str) -> bool:
        """The stored hash was made with weaker parameters than today's (rehash on login)."""
        return bool(self.hasher.check_needs_rehash(phc))

    async def verify_async(self, phc: str | None, password: str) -> bool:
        if len(password.encode("utf-8")) > LONGEST:
            raise InvalidRequest(f"a password is at most {LONGEST} bytes", param="password")
        async with self._slots:
            return await asyncio.to_thread(self.verify, phc, password)
