"""Nothing answered is lost on a crash (issue 20, item 13; SECURITY.md S35: no unrecorded actions).

The headless gateway is killed with SIGKILL a few times while clients keep it busy with plain and
streamed requests, and restarted on the same state folder each time. Every request whose whole
answer a client received — the full body of a plain answer, a stream through its ``[DONE]`` and
its last chunk — must be in the usage ledger, exactly once (replaying the journal never counts a
request twice); a clean stop leaves no journal behind.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import aiohttp
from conftest import FAKE_KEY
from fakes.openai_upstream import FakeOpenAI
from test_cli import start

from gateway.store.db import FILE_NAME

KILLS = 3
CLIENTS = 8
LOAD_SECONDS = 0.8  # of load before each kill: the writer has committed some rows, not the last ones
MOST_PER_CLIENT = 400  # bounds each client's requests in a round, should the gateway never die


async def serve(home: Path, upstream: FakeOpenAI) -> tuple[asyncio.subprocess.Process, str]:
    return await start(
        home,
        "serve",
        "--port",
        "0",
        "--log-level",
        "warning",
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=upstream.url,
        OPENAI_MODELS="gpt-test",
    )


async def keep_asking(url: str, stream: bool, completed: list[str]) -> None:
    """Requests one after another until the gateway is gone; the id of each answer received whole."""
    body = {"model": "openai/gpt-test", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    async with aiohttp.ClientSession() as session:
        for _ in range(MOST_PER_CLIENT):
            try:
                async with session.post(f"{url}/v1/chat/completions", json=body) as response:
                    data = await response.read()
            except aiohttp.ClientError:
                return  # killed mid-answer: not received whole
            if response.status == 200 and (not stream or data.rstrip().endswith(b"data: [DONE]")):
                completed.append(response.headers["x-request-id"])


async def one_round(home: Path, upstream: FakeOpenAI, completed: list[str]) -> None:
    proc, url = await serve(home, upstream)
    clients = [asyncio.create_task(keep_asking(url, i % 2 == 1, completed)) for i in range(CLIENTS)]
    await asyncio.wait(clients, timeout=LOAD_SECONDS)
    proc.send_signal(signal.SIGKILL)
    await asyncio.gather(*clients)
    await proc.wait()


def ledgered(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT request_id, COUNT(*) FROM usage WHERE kind = 'request' GROUP BY request_id"))


async def test_every_answer_received_whole_before_a_kill_is_in_the_ledger_once(
    tmp_path: Path, upstream: FakeOpenAI
) -> None:
    completed: list[str] = []
    async with asyncio.timeout(120):
        for _ in range(KILLS):
            await one_round(tmp_path, upstream, completed)
        proc, _ = await serve(tmp_path, upstream)  # the last start replays what the last kill left
        proc.send_signal(signal.SIGTERM)
        assert await proc.wait() == 0
    assert len(completed) >= KILLS * CLIENTS
    rows = ledgered(tmp_path / "data" / FILE_NAME)
    missing = [request_id for request_id in completed if request_id not in rows]
    assert not missing, f"{len(missing)} of {len(completed)} answered requests are not in the ledger"
    assert {request_id: n for request_id, n in rows.items() if n > 1} == {}
    assert not list((tmp_path / "data").glob("ledger-*.journal"))  # a clean stop leaves no journal
