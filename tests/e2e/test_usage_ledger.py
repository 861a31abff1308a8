"""The usage ledger end to end: a row per request and per failed attempt, with the fields the
reports need and no content; reports over the admin API and the CLI; an audit log the CLI verifies."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
from conftest import StartGateway
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script
from test_cli import run

from gateway import GatewayServer
from gateway.store.secrets import FileSecrets

TOKEN = "sb-admin-ledger-test-token-00000000000000"
KEYS = ("sk-ledger-first-00000001", "sk-ledger-second-0000002")
SECRET_WORDS = "periwinkle-canary-prompt"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


async def start(start_gateway: StartGateway, upstream: FakeOpenAI, home: Path) -> GatewayServer:
    upstream.accept(*KEYS)
    config = (
        f'[providers.pool]\nkind = "openai-compatible"\nbase_url = "{upstream.url}"\napi_key_env = "POOL_KEY"\n'
        'rotation = "sequential"\nread_timeout = 2\n'
    )
    data = home / "data"
    data.mkdir(parents=True, mode=0o700)
    return await start_gateway(
        config,
        {"POOL_KEY": ",".join(KEYS)},
        admin_token=TOKEN,
        data_dir=data,
        secrets=FileSecrets(data / "secrets.json"),
    )


async def post(
    gateway: GatewayServer, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=body, headers=headers or {}) as r,
    ):
        return r.status, await r.read()


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "pool/gpt-test", "messages": [{"role": "user", "content": f"say {SECRET_WORDS}"}], **extra}


def rows(path: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute("SELECT * FROM usage ORDER BY id")]


async def test_every_request_and_failed_attempt_has_a_row(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    gateway = await start(start_gateway, upstream, tmp_path)
    assert (await post(gateway, chat()))[0] == 200
    assert (await post(gateway, chat(stream=True, stream_options={"include_usage": True})))[0] == 200
    upstream.key_faults[KEYS[0]] = upstream.failure(429, "rate_limit_error", "slow down", {"retry-after": "30"})
    assert (await post(gateway, chat()))[0] == 200  # failover to the second key
    del upstream.key_faults[KEYS[0]]
    upstream.omit_usage = True
    assert (await post(gateway, chat(model="pool/gpt-test")))[0] == 200  # counted here
    upstream.omit_usage = False
    for _ in range(2):
        upstream.then(
            Script("status", status=400, body=b'{"error": {"message": "bad", "type": "invalid_request_error"}}')
        )
    assert (await post(gateway, chat()))[0] == 400
    assert (await post(gateway, {"model": "nope/none", "messages": [{"role": "user", "content": "x"}]}))[0] == 404
    assert gateway.state is not None
    path = gateway.state.db.path
    await gateway.stop()

    found = rows(path)
    requests = sorted((r for r in found if r["kind"] == "request"), key=lambda r: r["ts"])  # in order of arrival
    attempts = [r for r in found if r["kind"] == "attempt"]
    assert len(requests) == 6 and len(attempts) == 1
    whole, streamed, failed_over, estimated, refused, unknown = requests
    assert whole["caller"] == "local" and whole["protocol"] == "openai-chat" and whole["model"] == "pool/gpt-test"
    assert (whole["provider"], whole["account"], whole["upstream_model"]) == ("pool", "pool#1", "gpt-test")
    assert (whole["prompt"], whole["completion"], whole["cached"], whole["reasoning"]) == (12, 7, 4, 2)
    assert whole["status"] == 200 and whole["error"] == "" and whole["attempts"] == 1 and not whole["estimated"]
    assert 0 < whole["ttfb_ms"] <= whole["latency_ms"]
    assert (streamed["prompt"], streamed["completion"]) == (12, 5)
    assert failed_over["account"] == "pool#2" and failed_over["attempts"] == 2
    assert (
        attempts[0]["account"] == "pool#1"
        and attempts[0]["status"] == 429
        and attempts[0]["error"] == "rate_limit_error"
    )
    assert attempts[0]["request_id"] == failed_over["request_id"]
    assert estimated["estimated"] == 1 and estimated["prompt"] > 0 and estimated["completion"] > 0
    assert refused["status"] == 400 and refused["error"] == "invalid_request_error" and refused["provider"] == "pool"
    assert unknown["status"] == 404 and unknown["error"] == "model_not_found" and unknown["attempts"] == 0
    assert len({r["request_id"] for r in requests}) == 6
    stored = b"".join(p.read_bytes() for p in path.parent.iterdir() if p.is_file())
    assert SECRET_WORDS.encode() not in stored  # no prompt or completion content, ever

    home = tmp_path
    usage = run(home, "usage")
    assert usage.returncode == 0, usage.stderr
    assert "Requests in all: 6 (4 successful)" in usage.stdout
    total = sum(r["prompt"] + r["completion"] for r in requests)
    assert f"= {total:,} total" in usage.stdout
    report = run(home, "report", "--view", "by-model", "--json")
    assert json.loads(report.stdout)[0]["name"] == "pool/gpt-test"
    recent = run(home, "report", "--view", "recent")
    assert recent.returncode == 0 and "model_not_found" in recent.stdout
    verified = run(home, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_usage_reports_over_the_admin_api(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    gateway = await start(start_gateway, upstream, tmp_path)
    for _ in range(3):
        assert (await post(gateway, chat()))[0] == 200
    assert gateway.state is not None
    gateway.state.db.writer.flush()
    async with aiohttp.ClientSession(headers=ADMIN) as session:
        async with session.get(f"{gateway.url}/admin/usage?view=summary") as r:
            summary = (await r.json())["rows"][0]
        async with session.get(f"{gateway.url}/admin/usage?view=timeseries&bucket=hour") as r:
            series = (await r.json())["rows"]
        async with session.get(f"{gateway.url}/admin/usage?view=by-caller") as r:
            callers = (await r.json())["rows"]
        async with session.get(f"{gateway.url}/admin/usage?view=nonsense") as r:
            assert r.status == 400
    assert summary["requests"] == 3 and summary["prompt_tokens"] == 36 and summary["total_tokens"] == 57
    assert len(series) == 1 and series[0]["start_s"] % 3600 == 0 and series[0]["requests"] == 3
    assert callers == [{**summary, "name": "local"}]


async def test_the_audit_log_records_key_changes_and_verifies(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    gateway = await start(start_gateway, upstream, tmp_path)
    async with aiohttp.ClientSession(headers=ADMIN) as session:
        async with session.post(f"{gateway.url}/admin/keys", json={"label": "ci"}) as r:
            made = await r.json()
        async with session.delete(f"{gateway.url}/admin/keys/{made['id']}") as r:
            assert r.status == 200
        async with session.get(f"{gateway.url}/admin/audit") as r:
            events = (await r.json())["events"]
        async with session.get(f"{gateway.url}/admin/audit/verify") as r:
            verdict = await r.json()
    assert [(e["actor"], e["action"]) for e in events] == [
        ("gateway", "gateway.started"),
        ("local-admin", "key.created"),
        ("local-admin", "key.revoked"),
    ]
    assert made["key"] not in json.dumps(events)
    assert verdict == {"ok": True, "checked": 3, "first_bad": None, "reason": ""}
    assert gateway.state is not None
    path = gateway.state.db.path
    await gateway.stop()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE audit SET actor = 'nobody' WHERE seq = 2")
    conn.commit()
    broken = run(tmp_path, "audit", "verify")
    assert broken.returncode == 1 and "BROKEN at event 2" in broken.stdout
