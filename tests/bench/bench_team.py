"""What team mode costs a request: ``python tests/bench/bench_team.py``.

Side by side in one run, real processes on loopback: the fast upstream called directly; one
gateway on SQLite (its limits in-process); one on PostgreSQL (``[store] url``, its limits
in-process); one on PostgreSQL + Redis (``[store] url``, ``[shared] redis``); nginx running
``deploy/nginx.conf`` in front of that one; and nginx in front of two. Every gateway requires
client keys and is called with one key whose limits are far beyond the load, so each request finds
its key, is counted in its limit windows (Redis's atomic scripts, or the in-process windows) and
writes its ledger row: the shared state's work, measured.

    python tests/bench/bench_team.py                          # 5 s per point, median of 3 rounds
    python tests/bench/bench_team.py --seconds 2 --rounds 5 --concurrency 1,16,64
    python tests/bench/bench_team.py --quick                  # a smoke run (figures meaningless)

Prints req/s, p50 and p99 latency and what each adds over the direct upstream, and CPU time per
request from /proc: the gateways' (both, for two), PostgreSQL's (its server and every backend),
Redis's and nginx's (master and workers); then the cost per request of the shared state (the
PostgreSQL + Redis gateway less the SQLite one, and PostgreSQL's and Redis's parts of it), and two
gateways against one. nginx keeps no connections open to the gateways (deploy/nginx.conf says
why), so its rows include a new connection a request. Nothing is pinned to a CPU: the servers, the
balancer and two gateways do not fit apart on a small machine, so compare the CPU figures, and read
req/s as the machine's. The targets take turns in each round and the median round is reported.
PostgreSQL runs with fsync and synchronous commits, as deployed. Needs Debian's postgresql,
redis-server and nginx (scripts/test.sh installs them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from bench_gateway import BODY, CHAT, DIRECT_BODY, Watched, free_port, gateway_command, ms, wait_ready, write_config
from loadgen import Result, load

from gateway.store.postgres.store import PASSWORD_ENV

# tests/servers, once the gateway is imported (tests/gateway, a folder of tests, must not stand in for it)
sys.path.append(str(Path(__file__).parents[1]))
from servers import end_process
from servers.nginx import Nginx, nginx_missing
from servers.postgres import PostgresCluster, PostgresServer, postgres_missing
from servers.redis import RedisServer, redis_missing

HERE = Path(__file__).parent
SECOND = "127.0.0.3"  # the second gateway's address: nginx's file wants both gateways on one port
UNLIMITED_ENOUGH = ("requests_per_minute", "requests_per_day", "tokens_per_minute", "tokens_per_day")
COLUMNS = ("gateway", "postgres", "redis", "nginx")  # whose CPU per request is shown


class Tree(Watched):
    """A server and every process under it (PostgreSQL's backends, nginx's workers), the ended ones included."""

    def cpu(self) -> float:
        times = self.proc.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in self.proc.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                own = child.cpu_times()
                total += own.user + own.system
        return float(total)


@dataclass(frozen=True)
class Target:
    port: int
    body: bytes
    token: str
    watched: dict[str, tuple[Watched, ...]]  # a column of COLUMNS: the processes it sums


async def measure(target: Target, concurrency: int, seconds: float) -> tuple[Result, dict[str, float]]:
    """One round at one point: the load's result and each watched column's CPU seconds per request."""
    marks: dict[str, dict[str, float]] = {}

    def mark(edge: str) -> None:
        marks[edge] = {column: sum(p.cpu() for p in procs) for column, procs in target.watched.items()}

    result = await load(
        target.port, CHAT, target.body, concurrency=concurrency, seconds=seconds, on_window=mark, token=target.token
    )
    done = max(1, result.requests)
    return result, {column: (marks["end"][column] - marks["start"][column]) / done for column in target.watched}


def port_free_on(host: str) -> int:
    """A port free on 127.0.0.1 and on ``host`` now."""
    while True:
        port = free_port()
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind((host, port))
            return port


def postgres_pid(server: PostgresServer) -> int:
    with psycopg.connect(server.url(), password=server.password) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    assert row is not None
    return int((Path(row[0]) / "postmaster.pid").read_text().split()[0])


def redis_pid(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"INFO server\r\n")
        reply = s.recv(1 << 16).decode()
    return int(reply.split("process_id:", 1)[1].split("\r\n", 1)[0])


class Team:
    """The processes under test, started in one temporary folder and stopped together."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.balancers: list[Nginx] = []
        self.logs: list[Path] = []

    def start_upstream(self) -> int:
        port = free_port()
        upstream = subprocess.Popen([sys.executable, str(HERE / "fast_upstream.py"), str(port)], stdout=subprocess.PIPE)
        self.procs.append(upstream)
        wait_ready(upstream, b"ready")
        return port

    def home(self, name: str, upstream: int, team: str = "") -> tuple[Path, dict[str, str]]:
        """A gateway's state folder with the bench provider (and the team's settings), and its environment."""
        home = self.folder / name
        write_config(home, upstream)
        with (home / "config.toml").open("a", encoding="utf-8") as config:
            config.write(team)
        return home, {**self.env, "SWITCHBOARD_HOME": str(home)}

    def client_key(self, env: dict[str, str]) -> str:
        """A key whose limits the load never reaches, made before any gateway holds the folder."""
        limits = [arg for name in UNLIMITED_ENOUGH for arg in ("--limit", name, str(10**12))]
        made = subprocess.run(
            [sys.executable, "-m", "gateway", "keys", "create", "--label", "bench", "--tier", "custom", *limits],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if made.returncode != 0:
            raise RuntimeError(f"keys create failed: {made.stderr}")
        return made.stdout.strip()

    def serve(self, home: Path, env: dict[str, str], host: str, port: int) -> Watched:
        command = [*gateway_command(home, port), "--host", host, "--require-keys"]
        log = home / "stderr.log"  # its warnings (the secrets file, the team's settings) kept off the table
        with log.open("wb") as errors:
            gateway = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env)
        self.procs.append(gateway)
        self.logs.append(log)
        try:
            wait_ready(gateway, b"listening on")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}: {log.read_text(errors='replace')[-3000:]}") from None
        return Watched(gateway.pid)

    def balancer(self, gateways: tuple[str, str], port: int) -> tuple[int, Tree]:
        nginx = Nginx(Path(tempfile.mkdtemp(prefix="sb-bench-nginx-")), gateways, port)
        conf = nginx.folder / "nginx.conf"
        # The load generator keeps its connections for the whole round; nginx's default would close
        # each after 1000 requests, which the round would count as lost time.
        conf.write_text(conf.read_text().replace("http {", "http {\n    keepalive_requests 1000000000;", 1))
        nginx.start()
        self.balancers.append(nginx)
        pid_file = nginx.folder / "nginx.pid"
        while not pid_file.read_text().strip():  # made a moment before it is written
            time.sleep(0.01)
        return nginx.port, Tree(int(pid_file.read_text()))

    def complaints(self) -> list[str]:
        """What the gateways logged that makes the figures wrong: an error, or Redis not answering
        (the limits then counted in-process, Redis's cost left out)."""
        lines = (line for log in self.logs for line in log.read_text(errors="replace").splitlines())
        return [line for line in lines if " ERROR " in line or "Redis did not answer" in line]

    def stop(self) -> None:
        for nginx in self.balancers:
            nginx.stop()
            shutil.rmtree(nginx.folder, ignore_errors=True)
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            end_process(proc)


def start(team: Team, server: PostgresServer, redis_server: RedisServer) -> dict[str, Target]:
    """Every process the targets need, started; the targets, in the order each round visits them."""
    upstream = team.start_upstream()
    store = f'\n[store]\nurl = "{server.new_database()}"\n'
    shared = f'{store}\n[shared]\nredis = "{redis_server.url}"\n'
    lone_home, lone_env = team.home("sqlite", upstream)
    pg_home, pg_env = team.home("team-pg", upstream, store)
    one_home, one_env = team.home("team-1", upstream, shared)
    two_home, two_env = team.home("team-2", upstream, shared)
    lone_key, team_key = team.client_key(lone_env), team.client_key(one_env)  # the team's: in PostgreSQL
    lone_port, pg_port, team_port = free_port(), free_port(), port_free_on(SECOND)
    lone = team.serve(lone_home, lone_env, "127.0.0.1", lone_port)
    pg = team.serve(pg_home, pg_env, "127.0.0.1", pg_port)
    one = team.serve(one_home, one_env, "127.0.0.1", team_port)
    two = team.serve(two_home, two_env, SECOND, team_port)
    nginx_one_port, nginx_one = team.balancer(("127.0.0.1", "127.0.0.1"), team_port)
    nginx_two_port, nginx_two = team.balancer(("127.0.0.1", SECOND), team_port)
    postgres: tuple[Watched, ...] = (Tree(postgres_pid(server)),)
    servers = {"postgres": postgres, "redis": (Watched(redis_pid(redis_server.port)),)}
    return {
        "direct": Target(upstream, DIRECT_BODY, "bench", {}),
        "sqlite": Target(lone_port, BODY, lone_key, {"gateway": (lone,)}),
        "pg": Target(pg_port, BODY, team_key, {"gateway": (pg,), "postgres": postgres}),
        "pg+redis": Target(team_port, BODY, team_key, {"gateway": (one,), **servers}),
        "nginx+1": Target(nginx_one_port, BODY, team_key, {"gateway": (one,), **servers, "nginx": (nginx_one,)}),
        "nginx+2": Target(nginx_two_port, BODY, team_key, {"gateway": (one, two), **servers, "nginx": (nginx_two,)}),
    }


async def run(levels: tuple[int, ...], seconds: float, rounds: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix="sb-bench-team-"))
    cluster = PostgresCluster(durable=True)
    redis_server = RedisServer(folder)
    team = Team(folder, dict(os.environ))
    try:
        server = cluster.start()
        team.env[PASSWORD_ENV] = server.password
        redis_server.start()
        targets = start(team, server, redis_server)
        print(f"{seconds:g} s per round, median of {rounds} rounds; CPU in us per request")
        print(
            f"{'target':<9} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} {'+p99 ms':>8} "
            + " ".join(f"{column:>8}" for column in COLUMNS)
            + f" {'errors':>6}"
        )
        results: dict[tuple[str, int], Result] = {}
        cpu: dict[tuple[str, int], dict[str, float]] = {}
        for concurrency in levels:
            runs: dict[str, list[tuple[Result, dict[str, float]]]] = {name: [] for name in targets}
            for _ in range(rounds):
                for name, target in targets.items():
                    runs[name].append(await measure(target, concurrency, seconds))
            for name, measured in runs.items():
                result = sorted(measured, key=lambda m: m[0].rate)[len(measured) // 2][0]
                per = {column: statistics.median(m[1][column] for m in measured) for column in targets[name].watched}
                results[(name, concurrency)], cpu[(name, concurrency)] = result, per
                direct = results[("direct", concurrency)]
                figures = " ".join(f"{per[c] * 1e6:8.1f}" if c in per else f"{'-':>8}" for c in COLUMNS)
                print(
                    f"{name:<9} {concurrency:>4} {result.rate:8.0f} {ms(result.p(50))} {ms(result.p(99))} "
                    f"{ms(result.p(50) - direct.p(50))} {ms(result.p(99) - direct.p(99))} {figures} {result.errors:>6}"
                )
        print()
        closing(results, cpu, levels)
        errors = sum(result.errors for result in results.values())
        if errors:
            print(f"ERRORS: {errors} non-200 answers during the run")
        if complaints := team.complaints():
            print("the gateways said, during the run:", *complaints[:20], sep="\n  ")
        return 1 if errors or complaints else 0
    finally:
        team.stop()
        redis_server.stop()
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def closing(
    results: dict[tuple[str, int], Result], cpu: dict[tuple[str, int], dict[str, float]], levels: tuple[int, ...]
) -> None:
    """The closing figures: what the shared state costs a request, split into PostgreSQL's part and
    Redis's, and what a second gateway brings."""

    def us(name: str, level: int, *columns: str) -> float:
        return sum(cpu[(name, level)].get(column, 0.0) for column in columns) * 1e6

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    def cost(more: str, less: str, level: int) -> str:
        gateway = us(more, level, "gateway") - us(less, level, "gateway")
        servers = us(more, level, "postgres", "redis") - us(less, level, "postgres", "redis")
        slow, fast = results[(more, level)], results[(less, level)]
        return (
            f"({more} - {less}), c={level}: gateway CPU {gateway:+.1f} us + servers' {servers:+.1f} us = "
            f"{gateway + servers:+.1f} us; latency p50 {(slow.p(50) - fast.p(50)) * 1000:+.3f} ms, "
            f"p99 {(slow.p(99) - fast.p(99)) * 1000:+.3f} ms; req/s {ratio(slow.rate, fast.rate):.2f}x"
        )

    for level in levels:
        print(f"cost per request of the shared state {cost('pg+redis', 'sqlite', level)}")
        print(f"  of which PostgreSQL's {cost('pg', 'sqlite', level)}")
        print(f"  of which Redis's {cost('pg+redis', 'pg', level)}")
    for level in levels:
        one, two = results[("nginx+1", level)], results[("nginx+2", level)]
        print(
            f"two gateways against one behind nginx, c={level}: req/s {ratio(two.rate, one.rate):.2f}x, "
            f"gateway CPU per request {us('nginx+2', level, 'gateway'):.1f} us against "
            f"{us('nginx+1', level, 'gateway'):.1f} us; nginx adds p50 "
            f"{(one.p(50) - results[('pg+redis', level)].p(50)) * 1000:+.3f} ms, "
            f"{us('nginx+1', level, 'nginx'):.1f} us CPU"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per point")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per point; the median is reported")
    parser.add_argument("--concurrency", default="1,16", help="the levels, comma separated (default 1,16)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 0.3 s per point, one round")
    args = parser.parse_args()
    for missing in (postgres_missing(), redis_missing(), nginx_missing()):
        if missing is not None:
            sys.exit(missing)
    levels = tuple(int(level) for level in args.concurrency.split(","))
    seconds = 0.3 if args.quick else args.seconds
    rounds = 1 if args.quick else max(1, args.rounds)
    sys.exit(asyncio.run(run(levels, seconds, rounds)))


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    main()
