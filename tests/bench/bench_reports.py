"""How fast usage reports answer on a large ledger (target: each under 200 ms on a million rows).

Fills a fresh database with ``--rows`` request rows spread over 90 days, 8 callers, 12 models
and 4 providers (written as the gateway writes them: batches through the ledger's sink, which
keeps the hourly roll-up), then times every report view over the whole span, median of 5.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gateway.store import ledger
from gateway.store.db import FILE_NAME, connect


def fill(path: Path, rows: int, span: float, now: float) -> float:
    conn = connect(path)
    rng = random.Random(7)
    callers = [f"key{i:02d}" for i in range(8)]
    providers = ["openai", "anthropic", "groq", "ollama"]
    models = [f"{p}/model-{i}" for p in providers for i in range(3)]
    started = time.perf_counter()
    batch: list[ledger.LedgerRow] = []
    for n in range(rows):
        model = rng.choice(models)
        ok = rng.random() > 0.03
        batch.append(
            ledger.LedgerRow(
                ts=now - span + span * n / rows,
                request_id=f"req{n:012d}",
                kind="request",
                caller=rng.choice(callers),
                protocol=rng.choice(("openai-chat", "anthropic-messages", "ollama-chat")),
                model=model,
                provider=model.split("/")[0],
                account=f"{model.split('/')[0]}#1",
                upstream_model=model.split("/")[1],
                prompt=rng.randint(10, 5000) if ok else 0,
                completion=rng.randint(1, 800) if ok else 0,
                cached=0,
                reasoning=0,
                estimated=False,
                status=200 if ok else 429,
                error="" if ok else "rate_limit_error",
                latency_ms=rng.uniform(50, 4000),
                ttfb_ms=rng.uniform(20, 400),
                attempts=1,
            )
        )
        if len(batch) == 5000:
            conn.execute("BEGIN")
            ledger.write(conn, batch)
            conn.execute("COMMIT")
            batch = []
    if batch:
        conn.execute("BEGIN")
        ledger.write(conn, batch)
        conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    now, span = time.time(), 90 * 86400.0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / FILE_NAME
        took = fill(path, args.rows, span, now)
        print(f"ledger: {args.rows:,} rows over 90 days written in {took:.1f} s ({args.rows / took:,.0f} rows/s)")
        conn = connect(path, readonly=True)
        print(f"{'view':<22} {'median ms':>10} {'max ms':>8} {'rows':>6}")
        worst = 0.0
        for view, bucket in [(v, "hour") for v in ledger.VIEWS] + [("timeseries", "day")]:
            times = []
            for _ in range(5):
                started = time.perf_counter()
                out = ledger.report(conn, view, now - span, now + 1, bucket)
                times.append(time.perf_counter() - started)
            worst = max(worst, statistics.median(times))
            name = f"{view} ({bucket})" if view == "timeseries" else view
            print(f"{name:<22} {statistics.median(times) * 1000:10.2f} {max(times) * 1000:8.2f} {len(out):>6}")
        print(f"slowest report: {worst * 1000:.1f} ms   (target < 200 ms on 1,000,000 rows)")


if __name__ == "__main__":
    main()
