"""The key table joined to a team's store: a change announced while every key is being read again
(the periodic reload) is not undone by that older read."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from fakes.clock import FakeClock

from gateway.auth.key_table import ClientKeys
from gateway.store.database import Database
from gateway.store.keys import KeyRecord
from gateway.store.seam import Event

LIVE = KeyRecord("abcdefghijkl", "team", "standard", (), b"d" * 32, "wxyz", 1.0)
REVOKED = replace(LIVE, revoked_at=2.0)


class SlowStore:
    """A team's keys whose full read takes its snapshot first and answers only when let go."""

    def __init__(self) -> None:
        self.now = LIVE
        self.let_go = asyncio.Event()

    async def load(self) -> list[KeyRecord]:
        snapshot = [self.now]
        await self.let_go.wait()
        return snapshot

    async def get(self, key_id: str) -> KeyRecord | None:
        return self.now

    async def insert(self, record: KeyRecord, event: Event) -> None: ...

    async def revoke(self, key_id: str, when: float, event: Event) -> bool:
        return False

    async def set_limits(self, key_id: str, tier: str, limits: dict[str, float], event: Event) -> bool:
        return False

    async def touch(self, used: list[tuple[float, str]]) -> None: ...


async def test_a_revocation_heard_during_a_reload_is_not_undone_by_it(tmp_path: Path) -> None:
    table = ClientKeys(Database(tmp_path, b"k" * 32, FakeClock()), b"p" * 32, FakeClock())
    store = SlowStore()
    store.let_go.set()
    await table.join(store, b"p" * 32)
    store.let_go.clear()
    reload = asyncio.create_task(table.refresh())  # the snapshot: the key live
    await asyncio.sleep(0)
    store.now = REVOKED  # revoked on another gateway, and announced
    table.heard(LIVE.id)
    await asyncio.sleep(0.01)
    assert table.listing()[0]["revoked_at"] == 2.0
    store.let_go.set()
    await reload  # the older snapshot lands...
    for _ in range(100):  # ...and is read again at once
        await asyncio.sleep(0.01)
        if table.listing()[0]["revoked_at"] == 2.0:
            break
    assert table.listing()[0]["revoked_at"] == 2.0
