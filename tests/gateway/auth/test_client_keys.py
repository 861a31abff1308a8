"""Client keys (SECURITY.md S12, S13): format, entropy, checksum, keyed hash, constant time."""

from __future__ import annotations

import hmac
import math
import re
from pathlib import Path
from typing import Any

import pytest
from fakes.clock import FakeClock

from gateway.auth import client_keys
from gateway.auth.key_table import ClientKeys
from gateway.errors import InvalidRequest
from gateway.store import audit
from gateway.store.database import Database

PEPPER = b"p" * 32


@pytest.fixture
def table(tmp_path: Path) -> Any:
    db = Database(tmp_path, b"a" * 32, FakeClock())
    db.open()
    keys = ClientKeys(db, PEPPER, FakeClock())
    keys.load()
    yield keys
    db.close()


def test_a_key_is_recognisable_and_carries_at_least_128_random_bits() -> None:
    new = client_keys.generate()
    assert re.fullmatch(r"sk-sb-[a-z2-7]{12}_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}", new.key)
    assert client_keys.SECRET_LENGTH * math.log2(62) >= 128
    assert client_keys.key_id_of(new.key) == new.id
    assert len({client_keys.generate().key for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),
        lambda k: k.replace("_", "-", 1),
        lambda k: k + "x",
        lambda k: k[:20],
    ],
)
def test_a_mistyped_key_fails_its_checksum_without_a_lookup(mangle: Any) -> None:
    assert client_keys.key_id_of(mangle(client_keys.generate().key)) is None


async def test_only_the_keyed_hash_is_stored_and_revocation_is_immediate(table: ClientKeys, tmp_path: Path) -> None:
    key, record = await table.create("ci bot", "free", {"requests_per_minute": 5}, "test")
    assert record.digest == hmac.new(PEPPER, key.encode(), "sha256").digest()
    listing = table.listing()
    assert listing == [record.public()] and "digest" not in listing[0]
    assert listing[0]["prefix"] == f"sk-sb-{record.id}" and listing[0]["last4"] == key[-4:]
    assert table.find(key) == record
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert key.encode() not in raw and key.split("_")[1].encode() not in raw
    assert await table.revoke(record.id, "test")
    assert table.find(key) is None
    assert not await table.revoke(record.id, "test")  # already revoked


async def test_the_comparison_is_constant_time(table: ClientKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    key, _ = await table.create("spy", "standard", {}, "test")
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert table.find(key) is not None
    wrong = key[:-11] + ("a" if key[-11] != "a" else "b") + key[-10:]
    table.find(client_keys.generate().key)  # another well-formed key: unknown id, no comparison needed
    assert len(calls) == 1
    assert table.find(wrong) is None  # (a changed secret fails the checksum first)


async def test_labels_tiers_and_limits_are_checked(table: ClientKeys) -> None:
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("", "free", {}),
        ("x\n", "free", {}),
        ("ok", "gold", {}),
        ("ok", "free", {"rpm": 1}),
        ("ok", "free", {"requests_per_minute": -1}),
        ("ok", "free", {"requests_per_minute": 2.5}),  # counts are whole
        ("ok", "free", {"dollars_per_day": "5"}),
        ("ok", "free", {"dollars_per_month": -1.0}),
        ("ok", "free", {"dollars_per_month": float("nan")}),
    ]
    for label, tier, limits in cases:
        with pytest.raises(InvalidRequest):
            await table.create(label, tier, limits, "test")


async def test_a_key_may_have_dollar_budgets_with_cents_audited_when_made_and_changed(table: ClientKeys) -> None:
    _, record = await table.create("bot", "standard", {"dollars_per_day": 2.5, "dollars_per_month": 40}, "test")
    caller = table.caller(record.id)
    assert caller is not None and (caller.quota.dollars_per_day, caller.quota.dollars_per_month) == (2.5, 40)
    assert await table.set_limits(record.id, "standard", {"dollars_per_day": 1.25}, "test")
    await table.refresh()
    assert table.listing()[0]["limits"] == {"dollars_per_day": 1.25}
    events = table._db.writer.run(audit.events).result()  # the audit log holds no floats: the amounts as text
    assert [(e.action, e.payload["limits"]) for e in events] == [
        ("key.created", {"dollars_per_day": "2.5", "dollars_per_month": "40"}),
        ("key.limits_changed", {"dollars_per_day": "1.25"}),
    ]


async def test_keys_made_by_another_process_are_picked_up(table: ClientKeys, tmp_path: Path) -> None:
    other_db = Database(tmp_path, b"a" * 32, FakeClock())
    other_db.open()
    other = ClientKeys(other_db, PEPPER, FakeClock())
    key, record = other.create_now("from the cli", "standard", {}, "cli").result()
    other_db.close()
    assert table.find(key) is None
    await table.refresh()
    assert table.find(key) == record
