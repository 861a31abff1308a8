"""A team's gateways keep each provider's model list and the protocols its server turned out not
to speak in their PostgreSQL: a gateway starting later, in a folder of its own, knows the models
another listed and goes straight to the protocol another found spoken, even while the provider's
model list cannot be had; neither state folder keeps them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import openai
import psycopg
import pytest
from conftest import FAKE_KEY, StartGateway
from fakes import openai_upstream
from fakes.openai_upstream import FakeOpenAI
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.team import team_member

from gateway.runtime.server import GatewayServer
from gateway.store.db import FILE_NAME
from gateway.store.postgres.model_lists import PostgresModelLists

TOKEN = "sb-admin-team-models-token-0000000000000"
BOTH = 'protocols = ["openai-chat", "openai-responses"]'


@pytest.fixture
async def chat_only() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=FAKE_KEY, models=("gpt-test", "gpt-team"), responses=False).start()
    yield fake
    await fake.stop()


async def _kept(server: PostgresServer, url: str) -> tuple[list[str], list[tuple[str, str]]]:
    async with await psycopg.AsyncConnection.connect(url, password=server.password) as conn:
        lists = await (await conn.execute("SELECT provider FROM model_lists")).fetchall()
        unspoken = await (await conn.execute("SELECT provider, protocol FROM unspoken")).fetchall()
    return [row[0] for row in lists], [(row[0], row[1]) for row in unspoken]


async def _models(gateway: GatewayServer, key: str) -> list[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{gateway.url}/v1/models", headers={"Authorization": f"Bearer {key}"}) as response,
    ):
        return [model["id"] for model in (await response.json())["data"]]


async def test_model_lists_kept_by_one_gateway_are_restored_by_a_later_one(
    start_gateway: StartGateway,
    chat_only: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    async def member() -> GatewayServer:
        return await team_member(start_gateway, chat_only, postgres_server, postgres_url, extra=BOTH, admin_token=TOKEN)

    one = await member()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{one.url}/admin/keys", json={"label": "models"}, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as response,
    ):
        key = (await response.json())["key"]
    client = openai.AsyncOpenAI(base_url=f"{one.url}/v1", api_key=key, max_retries=0)
    assert (await client.responses.create(model="fake/gpt-test", input="Say hello")).output_text == openai_upstream.TEXT
    for _ in range(100):  # the list is taken at the start, both are written moments after
        if await _kept(postgres_server, postgres_url) == (["fake"], [("fake", "openai-responses")]):
            break
        await asyncio.sleep(0.05)
    await one.stop()
    assert await _kept(postgres_server, postgres_url) == (["fake"], [("fake", "openai-responses")])

    chat_only.models_status = 503  # its list can no longer be had
    two = await member()  # later, in a folder of its own
    assert "fake/gpt-team" in await _models(two, key)
    client = openai.AsyncOpenAI(base_url=f"{two.url}/v1", api_key=key, max_retries=0)
    assert (await client.responses.create(model="fake/gpt-test", input="Say hello")).output_text == openai_upstream.TEXT
    assert len(chat_only.responses_requests) == 1  # two went straight to chat: one's 404 was enough

    for folder in ("state0", "state1"):
        with sqlite3.connect(tmp_path / folder / FILE_NAME) as conn:
            counts = [
                conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("model_lists", "unspoken")
            ]
        assert counts == [0, 0]


async def test_settings_apply_while_the_model_lists_kept_in_the_team_database_cannot_be_read(
    start_gateway: StartGateway,
    chat_only: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = await team_member(start_gateway, chat_only, postgres_server, postgres_url, admin_token=TOKEN)
    before = gateway.gateway

    async def gone(*_: object) -> None:  # the driver's own error: the database is out of reach for now
        raise psycopg.OperationalError("the connection is lost")

    # They only spare the new pipeline a first round of asking: it carries the lists the running one holds.
    monkeypatch.setattr(PostgresModelLists, "load", gone)
    await gateway.reconfigure()
    assert gateway.gateway is not before
    assert "model lists kept in the team's database were not read: the connection is lost" in caplog.text
