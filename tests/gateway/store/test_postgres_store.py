"""The storage seam on both back ends, and two gateways over one real PostgreSQL (issue 25, team
mode): a key made on one is taken by the other at once, a revoked one refused by both; appends
from both keep one audit chain that verifies; gateways starting together migrate once."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
from typing import Any

import psycopg
import pytest
from servers.backends import each_back_end, sqlite_db  # noqa: F401 (fixtures)
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.auth import client_keys
from gateway.store.db import StoreError
from gateway.store.keys import KeyRecord
from gateway.store.postgres import store as postgres_store
from gateway.store.postgres.schema import STEPS
from gateway.store.postgres.store import PASSWORD_ENV, PASSWORD_SECRET, PostgresStore, open_store
from gateway.store.seam import Event, Store
from gateway.store.secrets import MemorySecrets
from gateway.store.sqlite_store import SqliteStore
from gateway.store.team import open_team_store

PEPPER = b"p" * 32


def _event(action: str, **payload: object) -> Event:
    return Event(1_700_000_000_000, "admin", action, dict(payload))


def _record(label: str = "ci") -> tuple[str, KeyRecord]:
    new = client_keys.generate()
    record = KeyRecord(
        id=new.id,
        label=label,
        tier="standard",
        limits=(("requests_per_minute", 5.0),),
        digest=client_keys.digest(PEPPER, new.key),
        last4=new.last4,
        created_at=1_700_000_000.0,
    )
    return new.key, record


async def _two(server: PostgresServer, url: str) -> tuple[PostgresStore, PostgresStore]:
    first, second = await asyncio.gather(open_store(url, server.password), open_store(url, server.password))
    return first, second


async def test_keys_and_their_audit_events_behave_alike_on_both_back_ends(store: Store) -> None:
    key, record = _record()
    await store.keys.insert(record, _event("key.created", key=record.id))
    found = await store.keys.get(record.id)
    assert found == record
    assert client_keys.matches(PEPPER, key, found.digest)
    assert await store.keys.get("nope") is None

    assert await store.keys.set_limits(record.id, "open", {"requests_per_day": 9}, _event("key.limits_changed"))
    await store.keys.touch([(1_700_000_100.0, record.id), (1_700_000_050.0, record.id)])
    assert await store.keys.revoke(record.id, 1_700_000_200.0, _event("key.revoked", key=record.id))
    assert not await store.keys.revoke(record.id, 1_700_000_300.0, _event("key.revoked", key=record.id))
    assert not await store.keys.set_limits(record.id, "open", {}, _event("key.limits_changed"))

    if isinstance(store, SqliteStore):  # its last-used times are written in the writer's next batch
        await asyncio.sleep(0.4)
    (loaded,) = await store.keys.load()
    assert (loaded.tier, loaded.limits, loaded.revoked_at) == ("open", (("requests_per_day", 9),), 1_700_000_200.0)
    assert loaded.last_used == 1_700_000_100.0
    events = await store.audit.events()
    assert [e.action for e in events] == ["key.created", "key.limits_changed", "key.revoked"]  # refusals: none
    assert [e.seq for e in events] == [1, 2, 3]
    assert (await store.audit.verify()).ok
    assert [row["action"] for row in await store.audit.export()] == ["key.created", "key.limits_changed", "key.revoked"]


async def test_a_failed_change_appends_no_audit_event(store: Store) -> None:
    _, record = _record()
    await store.keys.insert(record, _event("key.created"))
    with pytest.raises(Exception, match=r"(?i)unique"):
        await store.keys.insert(record, _event("key.created"))  # the same id again
    assert [e.seq for e in await store.audit.events()] == [1]


async def test_a_key_made_on_one_gateway_is_taken_by_the_other_at_once_and_a_revoked_one_by_neither(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    one, two = await _two(postgres_server, postgres_url)
    try:
        key, record = _record()
        await one.keys.insert(record, _event("key.created", key=record.id))
        seen = await two.keys.get(record.id)
        assert seen is not None and seen.revoked_at is None and client_keys.matches(PEPPER, key, seen.digest)
        assert [r.id for r in await two.keys.load()] == [record.id]

        assert await two.keys.revoke(record.id, 1_700_000_001.0, _event("key.revoked", key=record.id))
        for gateway in (one, two):
            stored = await gateway.keys.get(record.id)
            assert stored is not None and stored.revoked_at == 1_700_000_001.0
        assert not await one.keys.revoke(record.id, 1_700_000_002.0, _event("key.revoked", key=record.id))
        assert [e.action for e in await one.audit.events()] == ["key.created", "key.revoked"]
    finally:
        await one.close()
        await two.close()


async def test_concurrent_appends_from_two_gateways_keep_one_chain_that_verifies_from_either(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    one, two = await _two(postgres_server, postgres_url)
    try:
        appends = [
            gateway.audit.append(_event("test.append", n=n, gateway=i))
            for n in range(25)
            for i, gateway in enumerate((one, two))
        ]
        seqs = await asyncio.gather(*appends)
        assert sorted(seqs) == list(range(1, 51))
        for gateway in (one, two):
            verdict = await gateway.audit.verify()
            assert (verdict.ok, verdict.checked) == (True, 50)
        assert await one.audit.export() == await two.audit.export()
        written = {(e.payload["gateway"], e.payload["n"]) for e in await two.audit.events(limit=100)}
        assert written == {(i, n) for n in range(25) for i in (0, 1)}
    finally:
        await one.close()
        await two.close()


async def test_a_changed_row_in_the_shared_chain_is_found(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    store = await open_store(postgres_url, postgres_server.password)
    try:
        for n in range(4):
            await store.audit.append(_event("test.append", n=n))
        async with await psycopg.AsyncConnection.connect(
            postgres_url, password=postgres_server.password, autocommit=True
        ) as conn:
            await conn.execute("UPDATE audit SET actor = 'someone' WHERE seq = 3")
        verdict = await store.audit.verify()
        assert (verdict.ok, verdict.first_bad) == (False, 3)
    finally:
        await store.close()


async def test_gateways_starting_together_migrate_once(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    stores = await asyncio.gather(*(open_store(postgres_url, postgres_server.password) for _ in range(4)))
    for store in stores:
        await store.close()
    async with await psycopg.AsyncConnection.connect(postgres_url, password=postgres_server.password) as conn:
        cursor = await conn.execute("SELECT version FROM schema_version ORDER BY version")
        assert [row[0] for row in await cursor.fetchall()] == list(range(1, len(STEPS) + 1))


async def test_a_wrong_or_missing_password_is_a_store_error_that_never_shows_it(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    for password in ("not-the-password", None):
        with pytest.raises(StoreError) as caught:
            await open_store(postgres_url, password, timeout=3)
        message = str(caught.value)
        assert f"127.0.0.1:{postgres_server.port}" in message and "password" in message  # why, in words
        assert "not-the-password" not in message and postgres_server.password not in message


async def test_a_database_migrated_by_a_newer_switchboard_is_refused(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    await (await open_store(postgres_url, postgres_server.password)).close()
    async with await psycopg.AsyncConnection.connect(
        postgres_url, password=postgres_server.password, autocommit=True
    ) as conn:
        await conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (len(STEPS) + 1,))
    with pytest.raises(StoreError, match="newer Switchboard"):
        await open_store(postgres_url, postgres_server.password)


async def test_the_team_store_takes_its_password_from_the_environment_before_the_secret_store(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    kept = MemorySecrets()
    kept.set(PASSWORD_SECRET, postgres_server.password)
    for env, secrets in (({}, kept), ({PASSWORD_ENV: postgres_server.password}, MemorySecrets())):
        store = await open_team_store(postgres_url, env, secrets)
        assert await store.audit.append(_event("test.opened")) > 0
        await store.close()
    with pytest.raises(StoreError, match="password"):
        await open_team_store(postgres_url, {PASSWORD_ENV: "wrong"}, kept)


def test_the_desktop_gateway_never_loads_the_postgresql_driver() -> None:
    """The driver is the team extra's: a gateway without ``[store] url`` must start without it."""
    code = (
        "import sys, gateway.cli.main, gateway.runtime.wiring, gateway.runtime.server;"
        " sys.exit('psycopg' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=60).returncode == 0


async def test_model_lists_and_unspoken_protocols_are_kept_and_aged_alike_on_both_back_ends(store: Store) -> None:
    lists = store.model_lists
    await lists.save([("openai", "https://a/v1", 100.0, '["gpt-5"]'), ("groq", "https://g/v1", 50.0, "[]")])
    await lists.save([("openai", "https://a/v1", 200.0, '["gpt-5","o3"]')])  # the newer list replaces it
    assert await lists.load(0) == [
        ("groq", "https://g/v1", 50.0, "[]"),
        ("openai", "https://a/v1", 200.0, '["gpt-5","o3"]'),
    ]
    assert await lists.load(60) == [("openai", "https://a/v1", 200.0, '["gpt-5","o3"]')]
    assert [row[0] for row in await lists.load(0)] == ["openai"]  # the old list was dropped for good

    await lists.save_unspoken([("mybox", "responses", "http://box", 10.0), ("mybox", "anthropic", "http://box", 30.0)])
    assert await lists.load_unspoken(20) == [("mybox", "anthropic", "http://box", 30.0)]
    assert await lists.load_unspoken(0) == [("mybox", "anthropic", "http://box", 30.0)]


async def test_a_slower_gateways_older_model_list_never_replaces_a_newer_one(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    one, two = await _two(postgres_server, postgres_url)
    try:
        await one.model_lists.save([("openai", "https://a/v1", 200.0, '["new"]')])
        await two.model_lists.save([("openai", "https://a/v1", 150.0, '["old"]')])
        await two.model_lists.save_unspoken([("box", "responses", "http://box", 90.0)])
        await one.model_lists.save_unspoken([("box", "responses", "http://box", 80.0)])
        assert await two.model_lists.load(0) == [("openai", "https://a/v1", 200.0, '["new"]')]
        assert await one.model_lists.load_unspoken(0) == [("box", "responses", "http://box", 90.0)]
    finally:
        await one.close()
        await two.close()


async def test_every_gateway_hears_of_a_key_change_moments_after_it_commits_and_after_a_lost_connection(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    one, two = await _two(postgres_server, postgres_url)
    heard: asyncio.Queue[str | None] = asyncio.Queue()
    watching = asyncio.create_task(two.keys.watch(heard.put_nowait, reconnect=0.05))
    try:
        assert await asyncio.wait_for(heard.get(), 5) is None  # listening: read every key now
        _, record = _record()
        await one.keys.insert(record, _event("key.created", key=record.id))
        assert await asyncio.wait_for(heard.get(), 5) == record.id
        assert not await one.keys.revoke("nope", 1.0, _event("key.revoked"))  # no change, no notice
        assert await one.keys.revoke(record.id, 1_700_000_001.0, _event("key.revoked", key=record.id))
        assert await asyncio.wait_for(heard.get(), 5) == record.id

        async with await psycopg.AsyncConnection.connect(
            postgres_url, password=postgres_server.password, autocommit=True
        ) as conn:  # the listening connection dropped, as by a database restart
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN switchboard_client_keys'"
            )
        assert await asyncio.wait_for(heard.get(), 5) is None  # listening again: read every key
        assert not await one.keys.set_limits(record.id, "open", {}, _event("key.limits_changed"))  # revoked
        _, second = _record("second")
        await one.keys.insert(second, _event("key.created", key=second.id))
        assert await asyncio.wait_for(heard.get(), 5) == second.id  # and nothing before it
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        await one.close()
        await two.close()


async def test_the_store_serves_on_after_its_connections_were_dropped(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    """As after a database restart or failover: a pooled connection found dead is replaced, never
    handed out (the request that would have got it would fail)."""
    store = await open_store(postgres_url, postgres_server.password)
    try:
        await asyncio.gather(*(store.audit.append(_event("test.before", n=n)) for n in range(8)))  # fills the pool
        async with await psycopg.AsyncConnection.connect(
            postgres_url, password=postgres_server.password, autocommit=True
        ) as conn:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid != pg_backend_pid()"
            )
        for n in range(8):
            assert await store.audit.append(_event("test.after", n=n)) == 9 + n
        assert (await store.audit.verify()).ok
    finally:
        await store.close()


async def test_the_store_password_is_read_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secret store may be the keychain, whose reads block: never on the loop that serves."""
    read_on: list[int] = []

    class Keychain(MemorySecrets):
        def get(self, name: str) -> str | None:
            read_on.append(threading.get_ident())
            return "kept"

    async def opened(url: str, password: str | None) -> Any:
        return password

    monkeypatch.setattr(postgres_store, "open_store", opened)
    given: object = await open_team_store("postgresql://ci@127.0.0.1:1/db", {}, Keychain())  # what opened got
    assert given == "kept"
    assert read_on and threading.get_ident() not in read_on
