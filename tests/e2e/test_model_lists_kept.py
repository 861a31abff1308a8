"""The startup probe's results are kept in the database: a restart lists every provider's models
(and routes to them) before, or without, the provider answering again, for as long as the
list's time to live allows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiohttp
from conftest import FAKE_KEY, LOCAL_OFF, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway import GatewayServer, load_settings
from gateway.store.secrets import MemorySecrets

CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}


async def listed(server: GatewayServer) -> list[str]:
    async with aiohttp.ClientSession() as session, session.get(f"{server.url}/v1/models") as r:
        assert r.status == 200
        return [m["id"] for m in (await r.json())["data"] if m["id"].startswith("fake/")]


async def test_a_restart_serves_the_kept_list_while_the_provider_cannot_list(
    tmp_path: Path, upstream: FakeOpenAI
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        LOCAL_OFF + "[server]\nmodel_list_ttl_seconds = 3600\n" + provider_table("fake", upstream), encoding="utf-8"
    )
    data_dir, secrets = tmp_path / "state", MemorySecrets()
    data_dir.mkdir(mode=0o700)

    async def started() -> GatewayServer:
        server = GatewayServer(
            load_settings(config, {"FAKE_KEY": FAKE_KEY}, port=0), data_dir=data_dir, secrets=secrets
        )
        await server.start()
        return server

    first = await started()
    models = await listed(first)
    assert "fake/gpt-test" in models
    await first.stop()

    upstream.models_status = 503  # its model list is failing at the next start; chat still works
    second = await started()
    try:
        assert await listed(second) == models
        assert second.gateway.sync.ready  # nothing waited for the provider's answer
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{second.url}/v1/chat/completions", json=CHAT) as r,
        ):
            assert r.status == 200 and r.headers["x-switchboard-route"].startswith("fake/gpt-test")
        assert second.gateway.sync.last_error("fake") is not None  # it was asked, and failed
    finally:
        await second.stop()

    with sqlite3.connect(data_dir / "switchboard.db") as conn:  # the list is now older than its TTL
        conn.execute("UPDATE model_lists SET taken_at = taken_at - 7200")
    conn.close()
    third = await started()
    try:
        assert await listed(third) == []
        with sqlite3.connect(data_dir / "switchboard.db") as conn:
            assert conn.execute("SELECT count(*) FROM model_lists").fetchone() == (0,)  # dropped for good
        conn.close()
    finally:
        await third.stop()
