"""Subscription accounts behind the storage seam, alike on both back ends; and on PostgreSQL,
gateways connecting accounts of one name at once still give them different labels."""

from __future__ import annotations

import asyncio

from servers.backends import each_back_end, sqlite_db  # noqa: F401 (fixtures)
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.store.accounts import Connecting, QuotaRow
from gateway.store.postgres.store import open_store
from gateway.store.seam import Event, Store

NOW = 1_700_000_000.0


def _connecting(account_id: str, subject: str, *, now: float = NOW, plan: str = "plus") -> Connecting:
    return Connecting(
        account_id, "codex", "me", subject, "me@example.com", plan, "login", "", now, "admin", "account.connected"
    )


def _window(label: str, taken_at: float, used: float) -> QuotaRow:
    return (label, "5h", "codex", used, NOW + 3600, 18000, None, None, 0, taken_at, used, taken_at)


async def test_accounts_and_quota_windows_behave_alike_on_both_back_ends(store: Store) -> None:
    accounts = store.accounts
    first = await accounts.connect(_connecting("codex-a", "subject-a"))
    other = await accounts.connect(_connecting("codex-b", "subject-b"))
    assert (first.label, other.label) == ("codex:me", "codex:me#2")  # one name, two accounts
    again = await accounts.connect(_connecting("codex-a", "subject-a", now=NOW + 10, plan="pro"))
    assert (again.label, again.plan, again.created_at, again.updated_at) == ("codex:me", "pro", NOW, NOW + 10)
    assert await accounts.find("codex:me#2") == other

    problem = Event(int(NOW * 1000), "gateway", "oauth.refresh_failed", {"id": "codex-a", "state": "needs_sign_in"})
    await accounts.set_state("codex-a", "needs_sign_in", NOW + 20, event=problem)
    await accounts.set_state("codex-b", "ok", NOW + 21, plan="team")
    assert [(a.id, a.state, a.plan) for a in await accounts.load()] == [
        ("codex-a", "needs_sign_in", "pro"),
        ("codex-b", "ok", "team"),
    ]

    await accounts.save_quota([_window("codex:me", NOW, 10.0), _window("codex:me#2", NOW, 20.0)])
    await accounts.save_quota([_window("codex:me", NOW + 5, 15.0)])
    assert [(q[0], q[3]) for q in await accounts.load_quota()] == [("codex:me", 15.0), ("codex:me#2", 20.0)]

    removed = await accounts.remove("codex:me#2", "admin", int(NOW * 1000))
    assert removed is not None and removed.id == "codex-b"
    assert await accounts.remove("codex-b", "admin", int(NOW * 1000)) is None
    assert [q[0] for q in await accounts.load_quota()] == ["codex:me"]  # its windows went with it

    actions = [e.action for e in await store.audit.events()]
    assert actions == [
        "account.connected",
        "account.connected",
        "account.connected",
        "oauth.refresh_failed",
        "account.removed",
    ]
    assert [e.payload.get("again") for e in (await store.audit.events())[:3]] == [False, False, True]


async def test_two_gateways_connecting_accounts_of_one_name_at_once_label_them_apart(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    one, two = await asyncio.gather(*(open_store(postgres_url, postgres_server.password) for _ in range(2)))
    try:
        rows = await asyncio.gather(
            *((one, two)[n % 2].accounts.connect(_connecting(f"codex-{n}", f"subject-{n}")) for n in range(8))
        )
        assert sorted(row.label for row in rows) == sorted(["codex:me", *(f"codex:me#{n}" for n in range(2, 9))])
        await two.accounts.save_quota([_window("codex:me", NOW + 5, 15.0)])
        await one.accounts.save_quota([_window("codex:me", NOW, 10.0)])  # older: kept out
        assert [q[3] for q in await one.accounts.load_quota()] == [15.0]
        assert (await two.audit.verify()).ok
    finally:
        await one.close()
        await two.close()
