"""The money view end to end (issue 23 point 6): a request through a started gateway lands a
ledger row priced at its model's list price and tagged with the tool that sent it; a local
server's answer costs nothing and keeps its list price; the admin usage views and the CLI's
report show the spend per tool and what the local model saved."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI
from test_cli import run
from test_usage_ledger import ADMIN, TOKEN

from gateway.store.db import FILE_NAME
from gateway.store.secrets import FileSecrets

# Dollars per million tokens, large enough to read in cents: the fake's whole answer reports
# 12 prompt tokens (4 of them cached) and 7 completion tokens.
PRICES = '[models."fake/gpt-test"]\ncost = [1000, 2000]\n\n[models."box/gpt-test"]\ncost = [1000, 2000]\n\n'
COST = (12 * 1000 + 7 * 2000) / 1e6  # "gpt-test" is of no known family: cached input at the full price
CLAUDE_CODE = {"User-Agent": "claude-cli/2.1.332 (external, cli)"}


async def post(url: str, model: str, headers: dict[str, str]) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as r:
        assert r.status == 200, await r.text()


async def usage(url: str, view: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/admin/usage?view={view}", headers=ADMIN) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["rows"]


async def test_a_request_lands_priced_and_tagged_and_the_reports_show_spend_and_savings(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    local = FakeOpenAI(key=None)
    await local.start()
    try:
        data = tmp_path / "data"
        data.mkdir(mode=0o700)
        config = PRICES + provider_table("fake", upstream) + provider_table("box", local, extra="local = true")
        gateway = await start_gateway(
            config,
            {"FAKE_KEY": FAKE_KEY, "BOX_KEY": "x"},
            admin_token=TOKEN,
            data_dir=data,
            secrets=FileSecrets(data / "secrets.json"),
        )
        chat = f"{gateway.url}/v1/chat/completions"
        await post(chat, "fake/gpt-test", CLAUDE_CODE)
        await post(chat, "box/gpt-test", {"User-Agent": "OpenAI/Python 1.99.1"})
        assert gateway.state is not None
        gateway.state.db.writer.flush()
        by_tool = {r["name"]: r for r in await usage(gateway.url, "by-tool")}
        (summary,) = await usage(gateway.url, "summary")
    finally:
        await local.stop()

    with sqlite3.connect(data / FILE_NAME) as conn:
        rows = conn.execute("SELECT provider, tool, cost, list_cost, unpriced FROM usage ORDER BY id").fetchall()
    assert rows == [
        ("fake", "claude-code", pytest.approx(COST), pytest.approx(COST), 0),
        ("box", "openai-python", 0.0, pytest.approx(COST), 0),  # local: free, at list price what it saved
    ]
    assert (by_tool["claude-code"]["cost"], by_tool["openai-python"]["list_cost"]) == (
        pytest.approx(COST),
        pytest.approx(COST),
    )
    assert (summary["cost"], summary["list_cost"], summary["unpriced"]) == (
        pytest.approx(COST),
        pytest.approx(2 * COST),
        0,
    )
    report = await asyncio.to_thread(run, tmp_path, "report", "--view", "by-tool")
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert any(line.startswith("claude-code") and "$      0.03" in line for line in lines), report.stdout
    assert lines[-1] == "Spent: $0.03; saved by subscriptions and local models: $0.03", report.stdout
    totals = await asyncio.to_thread(run, tmp_path, "usage")
    assert totals.stdout.splitlines()[-1] == lines[-1], totals.stdout
