"""The connection the key watcher listens on gives up on a database that takes the connection and
never answers (then tries again), rather than hanging until it is cancelled."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import pytest
from psycopg_pool import AsyncConnectionPool

from gateway.store.postgres import keys as postgres_keys
from gateway.store.postgres.keys import PostgresKeys


async def test_a_silent_database_is_given_up_on_and_tried_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    held: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepted, never answered

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(postgres_keys, "CONNECT_TIMEOUT", 2)  # libpq's least
    watcher = PostgresKeys(cast(AsyncConnectionPool, None), f"host=127.0.0.1 port={port} dbname=x user=x")
    heard: list[str | None] = []
    with caplog.at_level(logging.WARNING, logger="gateway"):
        task = asyncio.create_task(watcher.watch(heard.append, reconnect=0.1))
        try:
            for _ in range(100):
                if any("lost the database's notices" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.1)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            for writer in held:
                writer.close()
            server.close()
            await server.wait_closed()
    assert any("lost the database's notices" in r.getMessage() for r in caplog.records) and heard == []
