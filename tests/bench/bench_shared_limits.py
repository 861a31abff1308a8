"""What team mode's shared limits cost a request: ``python tests/bench/bench_shared_limits.py``.

Side by side, a client key's admission and settlement (``reserve`` then ``settle``, with the
tier's four windows and a dollar budget) in this process (``Limits``) and in a real redis-server on
loopback (``SharedLimits``, two atomic scripts a request; the settlement is not waited on by the
request, but is counted here). Figures: microseconds a request one at a time, and requests a
second with many at once on one gateway, and split over two (two clients in this one process, so
that row shows the cost of the sharing, not two processes' throughput). Needs Debian's
redis-server (scripts/test.sh installs it)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

from gateway.auth.callers import TIERS, Caller
from gateway.clock import SystemClock
from gateway.pipeline.limit_book import LimitBook
from gateway.pipeline.limits import Limits
from gateway.pipeline.shared_limits import SharedLimits
from gateway.shared.link import connect, failures
from gateway.shared.windows import SharedWindows

# tests/servers, once the gateway is imported (tests/gateway, a folder of tests, must not stand in for it)
sys.path.append(str(Path(__file__).parents[1]))
from servers.redis import RedisServer, redis_missing

BIG = TIERS["admin"].over({"requests_per_minute": 10**9, "tokens_per_minute": 10**12, "dollars_per_day": 1e6})


async def one_at_a_time(limits: LimitBook, caller: Caller, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        limits.settle(await limits.reserve(caller, 100), 120, 0.0001)
    await settled(limits)
    return (time.perf_counter() - start) / n * 1e6


async def at_once(books: list[LimitBook], caller: Caller, n: int) -> float:
    async def one(limits: LimitBook) -> None:
        limits.settle(await limits.reserve(caller, 100), 120, 0.0001)

    start = time.perf_counter()
    await asyncio.gather(*(one(books[i % len(books)]) for i in range(n)))
    for limits in books:
        await settled(limits)
    return n / (time.perf_counter() - start)


async def settled(limits: LimitBook) -> None:
    if isinstance(limits, SharedLimits):
        await limits.drained()


class FellBack(logging.Handler):
    """Whether Redis failed to answer in time (the figures are then partly in-process ones)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        self.seen = True


async def main(n: int) -> None:
    fell_back = FellBack()
    logging.getLogger("gateway.limits").addHandler(fell_back)
    clock = SystemClock()
    with tempfile.TemporaryDirectory(prefix="sb-bench-redis-") as folder:
        server = RedisServer(Path(folder))
        server.start()
        clients = [connect(server.url), connect(server.url)]
        try:
            shared: list[LimitBook] = [
                SharedLimits(SharedWindows(c), Limits(clock), clock, failures()) for c in clients
            ]
            local: list[LimitBook] = [Limits(clock)]
            rows = (("in-process", local), ("redis, 1 gateway", shared[:1]), ("redis, 2 gateways", shared))
            print(f"{'limits':<20}{'us/request alone':>18}{'requests/s at once':>20}  fell back to in-process")
            for number, (name, books) in enumerate(rows):
                caller = Caller(f"bench-{number}", "custom", BIG)
                fell_back.seen = False
                await one_at_a_time(books[0], caller, n // 10)  # warm up
                alone = await one_at_a_time(books[0], caller, n)
                busy = await at_once(books, caller, n)
                print(f"{name:<20}{alone:>18.1f}{busy:>20.0f}  {'yes' if fell_back.seen else 'no'}")
        finally:
            for client in clients:
                await client.aclose()
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="a few hundred requests: that it runs, not its figures")
    args = parser.parse_args()
    if (reason := redis_missing()) is not None:
        sys.exit(reason)
    asyncio.run(main(300 if args.quick else args.requests))
