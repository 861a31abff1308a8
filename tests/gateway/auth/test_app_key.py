"""The tray app's own key: this computer's user wherever keys are required, made anew at each start,
and no client key (a wrong one is refused like any other)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes.clock import FakeClock

from gateway.auth.callers import LOCAL
from gateway.auth.identity import Identity
from gateway.auth.key_table import ClientKeys
from gateway.errors import Unauthorized
from gateway.store.database import Database


@pytest.fixture
def keys(tmp_path: Path) -> Any:
    db = Database(tmp_path, b"a" * 32, FakeClock())
    db.open()
    table = ClientKeys(db, b"p" * 32, FakeClock())
    table.load()
    yield table
    db.close()


def test_the_app_key_is_this_computers_user_where_keys_are_required(keys: ClientKeys) -> None:
    identity = Identity(keys, FakeClock(), require_keys=True)
    headers = {"Authorization": f"Bearer {identity.app_key}", "Host": "192.168.1.5:11488"}
    assert identity.caller(headers, "192.168.1.5") is LOCAL
    assert keys.listing() == []  # never a client key
    with pytest.raises(Unauthorized):
        identity.caller({"Authorization": f"Bearer {identity.app_key}x"}, "127.0.0.1")
    with pytest.raises(Unauthorized):
        identity.caller({}, "127.0.0.1")


def test_each_start_has_a_key_of_its_own(keys: ClientKeys) -> None:
    first, second = (Identity(keys, FakeClock(), require_keys=True) for _ in range(2))
    assert first.app_key != second.app_key and len(first.app_key) > 40
    with pytest.raises(Unauthorized):
        second.caller({"x-api-key": first.app_key}, "127.0.0.1")
