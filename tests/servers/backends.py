"""Each back end behind the storage seam, as the fixture ``store`` (made by ``each_back_end``), for
tests that must pass on both: the SQLite database in a temporary folder, and a fresh database on
the real PostgreSQL server (``servers.postgres``). A test module imports the fixtures it uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fakes.clock import FakeClock

from gateway.store.database import Database
from gateway.store.postgres.store import open_store
from gateway.store.seam import Store
from gateway.store.sqlite_store import SqliteStore
from servers.postgres import PostgresServer


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path, b"k" * 32, FakeClock())
    db.open()
    yield db
    db.close()


@pytest.fixture(name="store", params=["sqlite", "postgres"])
async def each_back_end(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """``store``: each back end, behind the one seam."""
    if request.param == "sqlite":
        yield SqliteStore(request.getfixturevalue("sqlite_db"))
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    opened = await open_store(server.new_database(), server.password)
    yield opened
    await opened.close()
