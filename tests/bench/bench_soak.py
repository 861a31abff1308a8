"""Soak benchmark: the headless gateway under a long mixed load, and killed under it (issue 20).

    python tests/bench/bench_soak.py --seconds 600      # ten minutes of soak
    python tests/bench/bench_soak.py --kills 10         # crash mode: ten kill -9 under load
    python tests/bench/bench_soak.py --seconds 3 --every 1 --kills 2 --kill-every 1   # a smoke run

The gateway runs as ``python -m gateway serve`` in its own process on loopback, in front of the
fast fake upstream (``fast_upstream.py``) under three providers: one that answers, one that
answers 429 and one that answers 500 every other call; routes never rest, so every failing
request reaches the upstream. Clients keep ``--concurrency`` requests in flight, each
drawn from a fixed mix (``MIX``): plain and streamed answers, 48 KiB prompts, the rate-limited and
the failing provider, and bodies over the gateway's size limit (413). A run is bounded by
``--seconds`` and ``--max-requests``. Nothing is pinned to a CPU: on a shared machine the load
average printed at the start and the end says how busy it was.

Soak mode prints every ``--every`` seconds the requests answered whole so far and their rate,
the gateway's resident memory and open descriptors, and the usage ledger's rows against the
answers (the rows trail by the writer's batch); then the memory growth per 10,000 requests after
the first minute and, once the gateway has stopped cleanly, the ledger against the answers.

Crash mode (``--kills N``) kills the gateway with SIGKILL every ``--kill-every`` seconds under the
same load and restarts it on the same state folder, then starts it once more and stops it
cleanly, and prints how many answers the clients received whole, how many of those the ledger
holds (lost: the rest) and how many it holds twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil
from bench_gateway import free_port, gateway_command, wait_http, wait_ready

HERE = Path(__file__).parent
MAX_BODY_MB = 0.0625  # the gateway's body limit in this run (64 KiB): "oversize" bodies are just over it
MAX_BODY = int(MAX_BODY_MB * 2**20)
MIX = {"json": 40, "stream": 30, "large": 5, "limited": 10, "broken": 10, "oversize": 5}  # weights
CHAT = "/v1/chat/completions"
DB = Path("data") / "switchboard.db"


def request_body(kind: str) -> bytes:
    model = {"limited": "limited/gpt-bench", "broken": "broken/gpt-bench"}.get(kind, "ok/gpt-bench")
    prompt = {"large": "x" * (48 * 1024), "oversize": "x" * (MAX_BODY + 1024)}.get(kind, "Hello, how are you today?")
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": 64,
        "stream": kind == "stream",
    }
    return json.dumps(body).encode()


BODIES = {kind: request_body(kind) for kind in MIX}


def write_config(home: Path, upstream_port: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    providers = "".join(
        f'[providers.{name}]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:{upstream_port}/{name}/v1"\n'
        'local = true\nmodels = ["gpt-bench"]\n\n'
        for name in ("ok", "limited", "broken")
    )
    (home / "config.toml").write_text(
        f"[server]\nmax_body_mb = {MAX_BODY_MB}\n\n[routing]\ncooldown_seconds = 0\nbreaker_failures = 1000\n\n"
        + providers
        + "".join(f"[providers.{p}]\nenabled = false\n" for p in ("ollama", "lmstudio", "llamacpp", "vllm"))
    )


class Gateway:
    """The gateway process on one port and state folder, started, killed and stopped at will."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> psutil.Process:
        command = [*gateway_command(self.home, self.port)]
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "SWITCHBOARD_HOME": str(self.home)},
        )
        await asyncio.to_thread(wait_http, f"http://127.0.0.1:{self.port}/health", 30.0)
        return psutil.Process(self.proc.pid)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


@dataclass
class Answers:
    """What the clients saw: answers received whole (their ids, in crash mode), and requests that
    got none or part of one."""

    keep_ids: bool
    sent: int = 0
    whole: int = 0
    broken: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    ids: list[str] = field(default_factory=list)


async def client(port: int, answers: Answers, budget: int, stop: asyncio.Event, seed: int) -> None:
    """Requests one after another, each of a kind drawn from the mix, until told to stop."""
    pick = random.Random(seed)
    kinds, weights = list(MIX), list(MIX.values())
    url = f"http://127.0.0.1:{port}{CHAT}"
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        while not stop.is_set() and answers.sent < budget:
            kind = pick.choices(kinds, weights)[0]
            answers.sent += 1
            try:
                async with session.post(url, data=BODIES[kind], headers=headers) as response:
                    data = await response.read()
            except (TimeoutError, aiohttp.ClientError, OSError):
                answers.broken += 1  # cut off by a kill, or refused while the gateway starts again
                await asyncio.sleep(0.01)
                continue
            if kind == "stream" and response.status == 200 and not data.rstrip().endswith(b"data: [DONE]"):
                answers.broken += 1
                continue
            answers.whole += 1
            answers.statuses[response.status] += 1
            if answers.keep_ids:
                answers.ids.append(response.headers["x-request-id"])


def ledger_rows(home: Path) -> int:
    with sqlite3.connect(f"{(home / DB).as_uri()}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM usage WHERE kind = 'request'").fetchone()[0])


def ledgered(home: Path) -> Counter[str]:
    with sqlite3.connect(f"{(home / DB).as_uri()}?mode=ro", uri=True) as conn:
        return Counter(
            dict(conn.execute("SELECT request_id, COUNT(*) FROM usage WHERE kind = 'request' GROUP BY request_id"))
        )


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def start_clients(
    args: argparse.Namespace, port: int, answers: Answers, stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(client(port, answers, args.max_requests, stop, seed)) for seed in range(args.concurrency)
    ]


async def soak(args: argparse.Namespace, gateway: Gateway) -> None:
    watched = await gateway.start()
    answers, stop = Answers(keep_ids=False), asyncio.Event()
    clients = start_clients(args, gateway.port, answers, stop)
    started = time.monotonic()
    base: tuple[float, int, float] | None = None  # RSS, answers and time once the first minute is over
    print(f"{'s':>6} {'answered':>9} {'req/s':>7} {'RSS MiB':>8} {'fds':>5} {'ledger':>9} {'trailing':>8}")
    last, last_at = 0, started
    rss = 0
    while (left := started + args.seconds - time.monotonic()) > 0 and not all(c.done() for c in clients):
        await asyncio.wait(clients, timeout=min(args.every, left))
        now = time.monotonic()
        rss, fds = watched.memory_info().rss, watched.num_fds()
        rows = await asyncio.to_thread(ledger_rows, gateway.home)
        rate = (answers.whole - last) / max(1e-9, now - last_at)
        print(
            f"{now - started:6.0f} {answers.whole:9d} {rate:7.0f} {rss / 2**20:8.1f} {fds:5d} {rows:9d} "
            f"{answers.whole - rows:8d}",
            flush=True,
        )
        last, last_at = answers.whole, now
        if base is None and now - started >= min(60.0, args.seconds / 2):
            base = (rss, answers.whole, now - started)
    stop.set()
    await asyncio.gather(*clients)
    assert gateway.stop() == 0, "the gateway did not stop cleanly"
    rows = ledger_rows(gateway.home)
    print()
    print(f"answered whole: {answers.whole} ({dict(sorted(answers.statuses.items()))}); cut off: {answers.broken}")
    if base is not None and answers.whole > base[1]:
        growth = (rss - base[0]) / 2**20 / (answers.whole - base[1]) * 10_000
        print(
            f"RSS at {base[2]:.0f} s {base[0] / 2**20:.1f} MiB, at the end {rss / 2**20:.1f} MiB: "
            f"{growth:+.2f} MiB per 10k requests"
        )
    print(
        f"usage ledger after a clean stop: {rows} request rows for {answers.whole} answered ({rows - answers.whole:+d})"
    )


async def crash(args: argparse.Namespace, gateway: Gateway) -> None:
    answers, stop = Answers(keep_ids=True), asyncio.Event()
    clients: list[asyncio.Task[None]] = []
    for kill in range(1, args.kills + 1):
        await gateway.start()
        if not clients:
            clients = start_clients(args, gateway.port, answers, stop)
        await asyncio.sleep(args.kill_every)
        gateway.kill()
        print(f"kill -9 #{kill}: {answers.whole} answered whole so far", flush=True)
    stop.set()
    await asyncio.gather(*clients)
    await gateway.start()  # replays what the last kill left
    assert gateway.stop() == 0, "the gateway did not stop cleanly"
    rows = ledgered(gateway.home)
    lost = sum(1 for request_id in answers.ids if request_id not in rows)
    twice = sum(1 for count in rows.values() if count > 1)
    print()
    print(
        f"after {args.kills} kill -9 under load: clients received {answers.whole} answers whole "
        f"({answers.broken} requests cut off or refused while it was down),"
    )
    print(
        f"the ledger holds {answers.whole - lost} of them: lost {lost}; held twice {twice}; "
        f"ledger request rows {sum(rows.values())}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0, help="soak length")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between soak reports")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=5_000_000, help="requests at most, in either mode")
    parser.add_argument("--kills", type=int, default=0, help="crash mode: this many kill -9 under load")
    parser.add_argument("--kill-every", type=float, default=2.0, help="crash mode: seconds of load before each kill")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="switchboard-soak-"))
    up_port = free_port()
    gateway = Gateway(home, free_port())
    upstream = subprocess.Popen([sys.executable, str(HERE / "fast_upstream.py"), str(up_port)], stdout=subprocess.PIPE)
    try:
        wait_ready(upstream, b"ready")
        write_config(home, up_port)
        print(f"{load_note()}; concurrency {args.concurrency}; mix {MIX}")
        await (crash(args, gateway) if args.kills else soak(args, gateway))
        print(load_note())
    finally:
        for proc in (gateway.proc, upstream):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
