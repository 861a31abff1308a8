"""Quota windows and client keys as the status shows them: a window past its reset reads as reset
(nothing used, all of it left, no "resets in 0 s", no forecast), a forecast already past is
dropped, a revoked key has no counters, and a live key's are rebuilt from the ledger at a restart."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.clock import FakeClock
from fakes.openai_upstream import FakeOpenAI

from gateway import Control, GatewayServer
from gateway.config.settings import HealthPolicy
from gateway.providers.quota import QuotaWindow
from gateway.routing.health import Health
from gateway.routing.pool import Credential
from gateway.routing.quota import QuotaBook, QuotaRecord
from gateway.store.secrets import MemorySecrets

HOUR = 3600.0


def _record(used: float, resets_at: float | None, now: float, **kwargs: float) -> QuotaRecord:
    window = QuotaWindow("premium_interactions", used, resets_at, 30 * 86400, 300.0, 300.0 * (1 - used / 100))
    return QuotaRecord("copilot:ada", "copilot", window, now, kwargs.get("first", used), kwargs.get("first_at", now))


def test_a_window_past_its_reset_reads_as_reset() -> None:
    now = 1_700_000_000.0
    stale = _record(98.0, now - 120, now - 3 * HOUR, first=50.0, first_at=now - 5 * HOUR).public(now)
    assert stale["reset"] is True
    assert (stale["used_percent"], stale["remaining"], stale["entitlement"]) == (0.0, 300.0, 300.0)
    assert (stale["resets_in"], stale["exhausted_at"]) == (None, None)
    assert stale["resets_at"] == now - 120  # when it reset, for the words

    live = _record(98.0, now + 0.4, now).public(now)
    assert live["reset"] is False and live["used_percent"] == 98.0
    assert live["resets_in"] == 1  # never "in 0 s" while it has yet to reset
    endless = _record(40.0, None, now - 86400).public(now)
    assert endless["reset"] is False and endless["resets_in"] is None


def test_a_window_past_its_reset_ranks_its_account_as_fresh() -> None:
    clock = FakeClock()
    book = QuotaBook(clock, Health(clock, HealthPolicy()))
    book.observe("codex:a", "codex", [QuotaWindow("primary", 90.0, clock.now + 600, 18000)])
    account = Credential("codex", "codex:a", None)
    assert book.allowance(account) == 10.0  # 10 % left for the hour (at least) until the reset
    clock.now += 601
    assert book.allowance(account) == 100.0


def test_a_forecast_already_past_is_dropped() -> None:
    clock = FakeClock()
    book = QuotaBook(clock, Health(clock, HealthPolicy()))
    reset = clock.now + 5 * HOUR
    book.observe("codex:a", "codex", [QuotaWindow("primary", 10.0, reset, 18000)])
    clock.now += HOUR
    book.observe("codex:a", "codex", [QuotaWindow("primary", 70.0, reset, 18000)])
    (record,) = book.records("codex:a")
    out_at = clock.now + 0.5 * HOUR  # 30 % left at 60 % an hour
    assert record.public(clock.now)["exhausted_at"] == out_at
    assert record.public(out_at + 60)["exhausted_at"] is None  # that pace was not kept up: no time in the past


async def test_a_revoked_client_key_has_no_counters(start_gateway: StartGateway) -> None:
    control = _control(await start_gateway())
    await control.create_key("laptop", "free", {}, "test")
    gone = await control.create_key("old phone", "free", {}, "test")
    await control.revoke_key(gone["id"], "test")
    keys = {k["label"]: k for k in control.status()["access"]["keys"]}
    assert "usage" in keys["laptop"] and keys["laptop"]["usage"]["requests_per_minute"]["limit"] == 20
    assert keys["old phone"]["revoked_at"] is not None and "usage" not in keys["old phone"]


async def test_a_client_keys_counters_survive_a_restart(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    config, env, secrets = provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}, MemorySecrets()
    (state := tmp_path / "kept").mkdir(mode=0o700)
    first = await start_gateway(config, env, data_dir=state, secrets=secrets)
    created = await _control(first).create_key("laptop", "free", {}, "test")
    chat = {"model": f"fake/{upstream.models[0]}", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {created['key']}"}) as session:
        for _ in range(3):
            async with session.post(f"{first.url}/v1/chat/completions", json=chat) as answer:
                assert answer.status == 200
        async with session.post(f"{first.url}/v1/chat/completions", data=b"{") as refused:
            assert refused.status == 400  # refused for its form: never admitted, not counted
    before = _counters(first, created["id"])
    assert before["requests_per_day"] == 3 and before["tokens_per_day"] > 0
    await first.stop()

    again = await start_gateway(config, env, data_dir=state, secrets=secrets)
    assert _counters(again, created["id"]) == before


def _counters(server: GatewayServer, key_id: str) -> dict[str, float]:
    (key,) = [k for k in _control(server).status()["access"]["keys"] if k["id"] == key_id]
    return {limit: counts["used"] for limit, counts in key["usage"].items()}


def _control(server: GatewayServer) -> Control:
    assert server.control is not None  # started
    return server.control
