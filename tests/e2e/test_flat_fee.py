"""A provider paid for by a plan's fee (a coding plan: Kimi Code's row, or any provider marked
``flat_fee = true``) is spent nothing per token, as subscriptions and local servers are, and what
its tokens would have cost at list price is kept as what the plan saved (issue 23 point 6)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiohttp
import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway.providers.catalog import load_catalog
from gateway.store.db import FILE_NAME

PRICE = '[models."plan/gpt-test"]\ncost = [1000, 2000]\n\n'
COST = (12 * 1000 + 7 * 2000) / 1e6  # the fake's answer: 12 prompt tokens, 7 completion


def test_kimis_coding_plan_is_paid_by_its_fee() -> None:
    catalog = load_catalog()
    assert catalog["kimi_code"].flat_fee and not catalog["moonshot"].flat_fee


async def test_a_flat_fee_providers_answer_costs_nothing_and_keeps_its_list_price(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    (data := tmp_path / "data").mkdir(mode=0o700)
    config = PRICE + provider_table("plan", upstream, extra="flat_fee = true")
    gateway = await start_gateway(config, {"PLAN_KEY": FAKE_KEY}, data_dir=data)
    body = {"model": "plan/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=body) as answer,
    ):
        assert answer.status == 200, await answer.text()
    assert gateway.state is not None
    gateway.state.db.writer.flush()
    with sqlite3.connect(data / FILE_NAME) as conn:
        rows = conn.execute("SELECT provider, cost, list_cost, unpriced FROM usage").fetchall()
    assert rows == [("plan", 0.0, pytest.approx(COST), 0)]
