"""``doctor`` and the clock: this computer's time beside a provider's ``Date`` header. Ten minutes
off is broken, said in words with the fix; a clock that agrees is ok. The clock is the doctor's
own (injected here); the fake provider states its time as every HTTP server does."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from conftest import provider_table
from fakes.clock import FakeClock
from fakes.openai_upstream import FakeOpenAI
from fakes.transport import CannedResponse, FakeTransport
from test_doctor import home_with

from gateway.admin.clock_skew import clock_skew, skew_words
from gateway.cli import doctor as doctor_cli
from gateway.cli import main as cli
from gateway.clock import SystemClock
from gateway.transport import UpstreamRequest
from gateway.transport.http1 import Http1Transport


class AheadClock(SystemClock):
    """The wall clock ``ahead`` seconds fast, as on a computer that does not set its time."""

    __slots__ = ("ahead",)

    def __init__(self, ahead: float) -> None:
        self.ahead = ahead

    def time(self) -> float:
        return time.time() + self.ahead


async def clock_findings(
    ahead: float, upstream: FakeOpenAI, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[dict[str, str]]]:
    monkeypatch.setattr(doctor_cli, "SystemClock", lambda: AheadClock(ahead))
    code = await asyncio.to_thread(cli.main, ["doctor", "--json", "--home", str(home)])
    return code, [f for f in json.loads(capsys.readouterr().out) if f["area"] == "clock"]


async def test_a_clock_ten_minutes_fast_is_broken_with_the_fix(
    upstream: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = home_with(tmp_path, monkeypatch, provider_table("good", upstream))
    code, [found] = await clock_findings(600, upstream, home, monkeypatch, capsys)
    assert code == 1
    assert (found["subject"], found["verdict"]) == ("127.0.0.1", "broken")
    assert "10 minutes ahead of 127.0.0.1's" in found["words"]
    assert found["advice"] == "Set the computer's clock to update automatically."


async def test_a_clock_that_agrees_is_ok(
    upstream: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = home_with(tmp_path, monkeypatch, provider_table("good", upstream))
    code, [found] = await clock_findings(20, upstream, home, monkeypatch, capsys)  # within two minutes
    assert (code, found["verdict"]) == (0, "ok")


async def test_the_skew_is_read_from_the_date_header(upstream: FakeOpenAI) -> None:
    transport = Http1Transport()
    try:
        behind = await clock_skew(transport, FakeClock(time.time() - 3 * 3600), "good", f"{upstream.root}/v1")
    finally:
        await transport.aclose()
    assert behind is not None and abs(behind + 3 * 3600) < 5
    assert skew_words(behind) == "3 hours behind"
    assert (skew_words(61), skew_words(1)) == ("1 minute ahead", "1 second ahead")


@pytest.mark.parametrize(
    ("date", "skew"),
    [("Tue, 14 Nov 2023 22:13:20 GMT", 0.0), ("Tue, 14 Nov 2023 22:13:20 -0000", 0.0), ("", None), ("soon", None)],
)
async def test_the_time_is_asked_with_no_key_and_a_date_without_a_zone_is_utc(date: str, skew: float | None) -> None:
    async def answer(request: UpstreamRequest) -> CannedResponse:
        return CannedResponse(404, b"", {"Date": date} if date else {})

    transport = FakeTransport(answer)
    assert await clock_skew(transport, FakeClock(1_700_000_000.0), "good", "https://api.example.com/v1") == skew
    [sent] = transport.sent
    assert (sent.method, sent.url, [name for name, _ in sent.headers]) == (
        "GET",
        "https://api.example.com/v1",
        ["User-Agent"],
    )
