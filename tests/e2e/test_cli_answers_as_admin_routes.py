"""The CLI and the admin routes are one door: over the same state folder, a key created from the
CLI is audited as one created over HTTP (but for who did it), and the CLI's usage, report, audit
export and verdict are the admin routes' answers, byte for byte where the CLI prints JSON."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
from conftest import StartGateway
from fakes.openai_upstream import FakeOpenAI
from test_cli import run
from test_usage_ledger import ADMIN, chat, post, start


async def admin_get(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url, headers=ADMIN) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_the_cli_audits_and_reports_as_the_admin_routes(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    gateway = await start(start_gateway, upstream, tmp_path)
    for _ in range(3):
        assert (await post(gateway, chat()))[0] == 200
    assert gateway.state is not None
    gateway.state.db.writer.flush()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{gateway.url}/admin/keys", json={"label": "over http"}, headers=ADMIN) as r:
            assert r.status == 201
        made = await asyncio.to_thread(run, tmp_path, "keys", "create", "--label", "from the cli")
        assert made.returncode == 0, made.stderr
        week_ago = time.time() - 7 * 86400
        events = (await admin_get(session, f"{gateway.url}/admin/audit"))["events"]
        summary = (await admin_get(session, f"{gateway.url}/admin/usage?view=summary&since=0"))["rows"]
        by_model = (await admin_get(session, f"{gateway.url}/admin/usage?view=by-model&since={week_ago}"))["rows"]
        verdict = await admin_get(session, f"{gateway.url}/admin/audit/verify")
        async with session.get(f"{gateway.url}/admin/audit/export", headers=ADMIN) as r:
            exported = await r.text()

    over_http, from_cli = (e for e in events if e["action"] == "key.created")
    assert (over_http["actor"], from_cli["actor"]) == ("local-admin", "cli")
    assert from_cli["payload"] == {**over_http["payload"], "key": from_cli["payload"]["key"], "label": "from the cli"}
    assert made.stdout.strip() not in json.dumps(events)

    usage = await asyncio.to_thread(run, tmp_path, "usage", "--json")
    assert [json.loads(usage.stdout)] == summary and summary[0]["requests"] == 3
    report = await asyncio.to_thread(run, tmp_path, "report", "--view", "by-model", "--json")
    assert json.loads(report.stdout) == by_model and by_model[0]["name"] == "pool/gpt-test"
    export = await asyncio.to_thread(run, tmp_path, "audit", "export")
    assert export.stdout == exported
    verified = await asyncio.to_thread(run, tmp_path, "audit", "verify", "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout) == verdict and verdict["ok"]
