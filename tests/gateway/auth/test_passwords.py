"""The admin password (SECURITY.md S21, S22): Argon2id at or above OWASP's minimum, weak hashes
upgraded on login, oversized input refused before hashing, unknown names cost the same."""

from __future__ import annotations

import time

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type

from gateway.auth.passwords import Passwords, check_new
from gateway.errors import InvalidRequest


def test_the_stored_hash_is_argon2id_with_strong_parameters() -> None:
    phc = Passwords().hash("correct horse battery")
    assert phc.startswith("$argon2id$")
    params = dict(part.split("=") for part in phc.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2 and int(params["p"]) >= 1
    salt = phc.split("$")[4]
    assert len(salt) * 3 // 4 >= 16


def test_short_and_huge_passwords_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="at least 12"):
        check_new("short-pass1")
    with pytest.raises(InvalidRequest, match="at most"):
        check_new("x" * 2000)


async def test_a_megabyte_password_is_refused_before_hashing() -> None:
    passwords = Passwords()
    started = time.perf_counter()
    with pytest.raises(InvalidRequest):
        await passwords.verify_async(None, "x" * 1_000_000)
    assert time.perf_counter() - started < 0.05  # no hash was computed


def test_a_weak_hash_is_flagged_for_upgrade() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID).hash("correct horse battery")
    passwords = Passwords()
    assert passwords.verify(weak, "correct horse battery")
    assert passwords.outdated(weak)
    assert not passwords.outdated(passwords.hash("correct horse battery"))


def test_an_unknown_name_does_the_same_work_as_a_wrong_password() -> None:
    passwords = Passwords()
    phc = passwords.hash("correct horse battery")
    passwords.verify(None, "warm up the dummy hash")
    started = time.perf_counter()
    assert not passwords.verify(phc, "wrong password here")
    wrong = time.perf_counter() - started
    started = time.perf_counter()
    assert not passwords.verify(None, "correct horse battery")
    unknown = time.perf_counter() - started
    assert 0.3 < unknown / wrong < 3
