"""The admin login behind the storage seam, alike on both back ends; and on PostgreSQL, a session
shared by the team's gateways: the same refresh token presented to two at once is spent once."""

from __future__ import annotations

import asyncio

from servers.backends import each_back_end, sqlite_db  # noqa: F401 (fixtures)
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.store.admin_login import Spend
from gateway.store.postgres.store import open_store
from gateway.store.seam import Store

NOW = 1_700_000_000.0


def _spend(token: bytes, new: bytes, *, generation: int = 1, now: float = NOW + 60) -> Spend:
    return Spend(token, "fam", "admin", generation, now, int(now * 1000), 10.0, new, now + 86400)


async def test_the_admin_login_and_its_refresh_tokens_behave_alike_on_both_back_ends(store: Store) -> None:
    login = store.admin_login
    assert await login.password("admin") is None and await login.generation("admin") is None
    await login.set_password("admin", "phc-1", NOW, "environment", 1)
    await login.issue(b"t1", "fam", "admin", NOW + 86400)
    await login.set_password("admin", "phc-2", NOW + 1, "admin", 2)  # a change: generation 1, t1 revoked
    assert await login.password("admin") == ("phc-2", 1)
    assert await login.spend(_spend(b"t1", b"t2")) == "revoked"

    await login.issue(b"t3", "fam", "admin", NOW + 86400)
    assert await login.spend(_spend(b"nope", b"x")) == "unknown"
    assert await login.spend(_spend(b"t3", b"t4", generation=0)) == "revoked"  # an earlier generation's
    assert await login.spend(_spend(b"t3", b"t4")) == "ok"
    assert await login.spend(_spend(b"t3", b"t5", now=NOW + 65)) == "raced"  # within the grace period
    assert await login.spend(_spend(b"t4", b"t6", now=NOW + 70)) == "ok"  # the successor works
    assert await login.spend(_spend(b"t3", b"t7", now=NOW + 200)) == "reused"  # a copy: the family ends
    assert await login.spend(_spend(b"t6", b"t8", now=NOW + 201)) == "revoked"
    await login.rehash("admin", "phc-2b")
    assert await login.password("admin") == ("phc-2b", 1)

    actions = [event.action for event in await store.audit.events()]
    assert actions == ["admin.created", "admin.password_changed", "admin.refresh_reuse"]
    assert (await store.audit.verify()).ok


async def test_one_refresh_token_presented_to_two_gateways_at_once_is_spent_once(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    one, two = await asyncio.gather(*(open_store(postgres_url, postgres_server.password) for _ in range(2)))
    try:
        await one.admin_login.set_password("admin", "phc", NOW, "environment", 1)
        for n in range(10):
            token = b"token-%d" % n
            await one.admin_login.issue(token, "fam", "admin", NOW + 86400)
            outcomes = await asyncio.gather(
                one.admin_login.spend(_spend(token, b"a-%d" % n, generation=0)),
                two.admin_login.spend(_spend(token, b"b-%d" % n, generation=0)),
            )
            assert sorted(outcomes) == ["ok", "raced"]
    finally:
        await one.close()
        await two.close()
