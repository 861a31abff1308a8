"""Gateway benchmark: the fake upstream called directly, a minimal aiohttp passthrough (the Python
ceiling), the same passthrough with the gateway's garbage-collector settings, the gateway, and the
gateway translating (an Anthropic Messages client in front of the same OpenAI upstream), side by
side in one run on loopback.

    python tests/bench/bench_gateway.py            # 5 s per point
    python tests/bench/bench_gateway.py --quick    # a smoke run (figures meaningless)
    python tests/bench/bench_gateway.py --baseline HEAD~1   # also that commit's gateway, side by side

Each target runs in its own process. With two or more CPUs the proxy under test is pinned to CPU 0
and the upstream plus this load generator to the others, so figures are per core of proxy.
Prints req/s, p50 and p99 latency, time to first byte and CPU time per request at concurrency 1,
16 and 64, non-streaming and streaming; peak RSS; cold start to /health; and the
gateway/passthrough ratios next to the targets of issue #2, and the CPU a translated stream costs
per upstream chunk against the gateway's own passthrough stream (issue #3: at most 1.5x). Each
point is measured in several rounds, the three targets taking turns, and the median round is
reported: a shared machine's noise then hits all three alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
from loadgen import Result, load

HERE = Path(__file__).parent
BODY = json.dumps(
    {
        "model": "bench/gpt-bench",
        "messages": [{"role": "user", "content": "Hello, how are you today?"}],
        "max_tokens": 64,
    }
).encode()
STREAM_BODY = json.dumps(
    {
        "model": "bench/gpt-bench",
        "messages": [{"role": "user", "content": "Hello, how are you today?"}],
        "max_tokens": 64,
        "stream": True,
    }
).encode()
DIRECT_BODY = BODY.replace(b"bench/gpt-bench", b"gpt-bench")
DIRECT_STREAM_BODY = STREAM_BODY.replace(b"bench/gpt-bench", b"gpt-bench")
MESSAGES_BODY = json.dumps(
    {
        "model": "bench/gpt-bench",
        "messages": [{"role": "user", "content": "Hello, how are you today?"}],
        "max_tokens": 64,
    }
).encode()
MESSAGES_STREAM_BODY = json.dumps(
    {
        "model": "bench/gpt-bench",
        "messages": [{"role": "user", "content": "Hello, how are you today?"}],
        "max_tokens": 64,
        "stream": True,
    }
).encode()
UPSTREAM_CHUNKS = 13  # events of the fake upstream's stream with usage, before [DONE]
CHAT, MESSAGES = "/v1/chat/completions", "/v1/messages"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(proc: subprocess.Popen[bytes], cpus: set[int] | None) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(proc.pid, cpus)


def wait_ready(proc: subprocess.Popen[bytes], marker: bytes) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if marker in line:
            return
        if not line and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
    raise RuntimeError(f"{proc.args!r} did not become ready")


def wait_http(url: str, timeout: float = 10.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.002)
    raise RuntimeError(f"{url} never answered")


def gateway_command(home: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gateway",
        "serve",
        "--home",
        str(home),
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def export_tree(rev: str, into: Path) -> Path:
    """The source tree at ``rev`` (a commit of this repository), for a baseline gateway beside this one."""
    repo = HERE.parent.parent
    tree = into / "baseline"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def write_config(home: Path, upstream_port: int, ledger: bool = True) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f"[server]\nledger = {'true' if ledger else 'false'}\n"
        f'[providers.bench]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:{upstream_port}/v1"\n'
        'local = true\nmodels = ["gpt-bench"]\n\n'
        + "".join(f"[providers.{p}]\nenabled = false\n" for p in ("ollama", "lmstudio", "llamacpp", "vllm"))
    )


class Watched:
    """A process under test: its peak resident memory and the CPU it spends."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0

    def cpu(self) -> float:
        times = self.proc.cpu_times()
        return float(times.user + times.system)

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            await asyncio.sleep(0.05)


async def measure(
    port: int, path: str, body: bytes, concurrency: int, seconds: float, watched: Watched | None
) -> tuple[Result, float]:
    """One round at one point: the load's result and the target's CPU seconds per request."""
    stop = asyncio.Event()
    watcher = asyncio.create_task(watched.watch(stop)) if watched else None
    cpu_marks: dict[str, float] = {}

    def mark(edge: str) -> None:
        if watched:
            cpu_marks[edge] = watched.cpu()

    result = await load(port, path, body, concurrency=concurrency, seconds=seconds, on_window=mark)
    cpu = (cpu_marks["end"] - cpu_marks["start"]) / max(1, result.requests) if watched else float("nan")
    stop.set()
    if watcher:
        await watcher
    return result, cpu


def cold_start(home: Path, runs: int, cpus: set[int] | None) -> list[float]:
    times = []
    env = {**os.environ, "SWITCHBOARD_HOME": str(home)}
    for _ in range(runs):
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            gateway_command(home, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        pin(proc, cpus)
        wait_http(f"http://127.0.0.1:{port}/health")
        times.append(time.perf_counter() - started)
        proc.terminate()
        proc.wait(10)
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f}"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per point")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per point; the median is reported")
    parser.add_argument("--quick", action="store_true", help="smoke run: 0.3 s per point, one round, one cold start")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--baseline", metavar="REV", help="also run this commit's gateway, side by side")
    args = parser.parse_args()
    seconds = 0.3 if args.quick else args.seconds
    rounds = 1 if args.quick else max(1, args.rounds)

    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    proxy_cpus = client_cpus = None
    if len(cpus) >= 2 and not args.no_pin:
        proxy_cpus = {min(cpus)}
        client_cpus = cpus - proxy_cpus
        os.sched_setaffinity(0, client_cpus)

    procs: list[subprocess.Popen[bytes]] = []
    home = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    try:
        up_port, pass_port, gw_port = free_port(), free_port(), free_port()
        upstream = subprocess.Popen(
            [sys.executable, str(HERE / "fast_upstream.py"), str(up_port)], stdout=subprocess.PIPE
        )
        procs.append(upstream)
        pin(upstream, client_cpus)
        wait_ready(upstream, b"ready")
        passthrough = subprocess.Popen(
            [sys.executable, str(HERE / "passthrough.py"), str(pass_port), f"http://127.0.0.1:{up_port}"],
            stdout=subprocess.PIPE,
        )
        procs.append(passthrough)
        pin(passthrough, proxy_cpus)
        wait_ready(passthrough, b"ready")
        tuned_port = free_port()
        tuned = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "passthrough.py"),
                str(tuned_port),
                f"http://127.0.0.1:{up_port}",
                "--tuned-gc",
            ],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(HERE.parent.parent)},
        )
        procs.append(tuned)
        pin(tuned, proxy_cpus)
        wait_ready(tuned, b"ready")
        write_config(home, up_port)
        gateway = subprocess.Popen(
            gateway_command(home, gw_port), stdout=subprocess.PIPE, env={**os.environ, "SWITCHBOARD_HOME": str(home)}
        )
        procs.append(gateway)
        pin(gateway, proxy_cpus)
        wait_ready(gateway, b"listening on")
        # The same gateway keeping no usage ledger: what writing a row per request costs.
        bare_home, bare_port = home / "no-ledger", free_port()
        write_config(bare_home, up_port, ledger=False)
        bare = subprocess.Popen(
            gateway_command(bare_home, bare_port),
            stdout=subprocess.PIPE,
            env={**os.environ, "SWITCHBOARD_HOME": str(bare_home)},
        )
        procs.append(bare)
        pin(bare, proxy_cpus)
        wait_ready(bare, b"listening on")

        gateway_watched = Watched(gateway.pid)
        baseline_targets: dict[str, tuple[int, Watched | None, str, bytes, bytes]] = {}
        if args.baseline:
            # The same gateway at another commit, its source first on the path: regressions show
            # as a ratio measured in the same rounds, not against a figure from another day.
            tree = export_tree(args.baseline, home)
            base_home, base_port = home / "baseline-home", free_port()
            write_config(base_home, up_port)
            env = {**os.environ, "SWITCHBOARD_HOME": str(base_home), "PYTHONPATH": str(tree)}
            base = subprocess.Popen(gateway_command(base_home, base_port), stdout=subprocess.PIPE, env=env, cwd=tree)
            procs.append(base)
            pin(base, proxy_cpus)
            wait_ready(base, b"listening on")
            base_watched = Watched(base.pid)
            baseline_targets = {
                "baseline": (base_port, base_watched, CHAT, BODY, STREAM_BODY),
                "base-transl": (base_port, base_watched, MESSAGES, MESSAGES_BODY, MESSAGES_STREAM_BODY),
            }
        targets = {
            "direct": (up_port, None, CHAT, DIRECT_BODY, DIRECT_STREAM_BODY),
            "passthrough": (pass_port, Watched(passthrough.pid), CHAT, DIRECT_BODY, DIRECT_STREAM_BODY),
            "pass+gc": (tuned_port, Watched(tuned.pid), CHAT, DIRECT_BODY, DIRECT_STREAM_BODY),
            "gateway": (gw_port, gateway_watched, CHAT, BODY, STREAM_BODY),
            "no-ledger": (bare_port, Watched(bare.pid), CHAT, BODY, STREAM_BODY),
            "translated": (gw_port, gateway_watched, MESSAGES, MESSAGES_BODY, MESSAGES_STREAM_BODY),
            **baseline_targets,
        }
        results: dict[tuple[str, str, int], Result] = {}
        cpu_per_request: dict[tuple[str, str, int], float] = {}
        print(
            f"CPUs: proxy on {sorted(proxy_cpus or cpus)}, upstream and load on {sorted(client_cpus or cpus)}; "
            f"{seconds:g} s per round, median of {rounds} rounds"
        )
        print(
            f"{'target':<12} {'mode':<7} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ttfb ms':>8} "
            f"{'cpu us/req':>10} {'errors':>6}"
        )
        for mode in ("json", "stream"):
            for concurrency in (1, 16, 64):
                runs: dict[str, list[tuple[Result, float]]] = {name: [] for name in targets}
                for _ in range(rounds):
                    for name, (port, watched, path, body, stream_body) in targets.items():
                        runs[name].append(
                            await measure(
                                port, path, stream_body if mode == "stream" else body, concurrency, seconds, watched
                            )
                        )
                for name, measured in runs.items():
                    result, cpu = sorted(measured, key=lambda m: m[0].rate)[len(measured) // 2]
                    results[(name, mode, concurrency)] = result
                    cpu_per_request[(name, mode, concurrency)] = statistics.median(c for _, c in measured)
                    print(
                        f"{name:<12} {mode:<7} {concurrency:>4} {result.rate:9.0f} {ms(result.p(50))} "
                        f"{ms(result.p(99))} "
                        f"{ms(result.ttfb())} {cpu * 1e6:10.1f} {result.errors:>6}"
                    )
        pass_rss = targets["passthrough"][1]
        gw_rss = gateway_watched
        assert pass_rss and gw_rss
        cold_home = home / "cold-start"  # its own folder: the gateway under test holds the first one's lock
        write_config(cold_home, up_port)
        starts = cold_start(cold_home, 1 if args.quick else 5, proxy_cpus)

        def r(name: str, mode: str, c: int) -> Result:
            return results[(name, mode, c)]

        throughput = r("gateway", "json", 64).rate / max(1e-9, r("passthrough", "json", 64).rate)
        stream_throughput = r("gateway", "stream", 64).rate / max(1e-9, r("passthrough", "stream", 64).rate)
        added_p50 = r("gateway", "json", 1).p(50) - r("direct", "json", 1).p(50)
        pass_added_p50 = r("passthrough", "json", 1).p(50) - r("direct", "json", 1).p(50)
        added_ttfb = r("gateway", "stream", 1).ttfb() - r("direct", "stream", 1).ttfb()
        pass_added_ttfb = r("passthrough", "stream", 1).ttfb() - r("direct", "stream", 1).ttfb()

        def ratio(a: float, b: float) -> float:
            """A figure over another; NaN when a round finished no request (a busy machine's quick
            run can), so the report still prints rather than stopping."""
            return a / b if b else math.nan

        def cpu_ratio(base: str, mode: str) -> float:
            return ratio(cpu_per_request[(base, mode, 64)], cpu_per_request[("gateway", mode, 64)])

        tuned_json = r("gateway", "json", 64).rate / max(1e-9, r("pass+gc", "json", 64).rate)
        tuned_stream = r("gateway", "stream", 64).rate / max(1e-9, r("pass+gc", "stream", 64).rate)
        print()
        print(f"throughput gateway/passthrough, c=64 json:   {throughput:5.2f}x   (target >= 0.80x)")
        print(f"throughput gateway/passthrough, c=64 stream: {stream_throughput:5.2f}x")
        ledger_json = r("gateway", "json", 64).rate / max(1e-9, r("no-ledger", "json", 64).rate)
        ledger_stream = r("gateway", "stream", 64).rate / max(1e-9, r("no-ledger", "stream", 64).rate)
        print(
            f"throughput with the usage ledger / without, c=64: json {ledger_json:5.2f}x, stream {ledger_stream:5.2f}x"
            f"   (by CPU: json {cpu_ratio('no-ledger', 'json'):5.2f}x, "
            f"stream {cpu_ratio('no-ledger', 'stream'):5.2f}x; target >= 0.90x)"
        )
        print(
            f"  the same by CPU time per request:          json {cpu_ratio('passthrough', 'json'):5.2f}x, "
            f"stream {cpu_ratio('passthrough', 'stream'):5.2f}x"
        )
        print(
            f"throughput gateway/(passthrough with the gateway's GC settings), c=64: json {tuned_json:5.2f}x, "
            f"stream {tuned_stream:5.2f}x"
        )
        print(
            f"  the same by CPU time per request:          json {cpu_ratio('pass+gc', 'json'):5.2f}x, "
            f"stream {cpu_ratio('pass+gc', 'stream'):5.2f}x"
        )
        print(
            f"added p50 latency over direct, c=1:         gateway {added_p50 * 1000:.3f} ms, "
            f"passthrough {pass_added_p50 * 1000:.3f} ms   (target <= 0.5 ms)"
        )
        print(
            f"added time to first streamed byte, c=1:     gateway {added_ttfb * 1000:.3f} ms, "
            f"passthrough {pass_added_ttfb * 1000:.3f} ms   (target <= 1 ms)"
        )
        for c in (1, 64):
            translated_chunk = cpu_per_request[("translated", "stream", c)] / UPSTREAM_CHUNKS
            own_chunk = cpu_per_request[("gateway", "stream", c)] / UPSTREAM_CHUNKS
            print(
                f"translated stream (Anthropic client, OpenAI upstream), c={c}: "
                f"{translated_chunk * 1e6:.1f} us CPU per upstream chunk, "
                f"passthrough stream {own_chunk * 1e6:.1f} us: {ratio(translated_chunk, own_chunk):5.2f}x   "
                "(target <= 1.5x)"
            )
        print(
            f"cold start to /health (median of {len(starts)}):   {statistics.median(starts):.3f} s   (target <= 0.5 s)"
        )
        print(
            f"peak RSS under load:                        gateway {gw_rss.peak / 2**20:.1f} MiB, "
            f"passthrough {pass_rss.peak / 2**20:.1f} MiB   (target <= 80 MB)"
        )
        if baseline_targets:
            print(f"this tree against {args.baseline} (same rounds; > 1 is faster, CPU ratio is theirs over ours):")
            for ours, theirs in (("gateway", "baseline"), ("translated", "base-transl")):
                for mode in ("json", "stream"):
                    figures = ", ".join(
                        f"c={c} {ratio(r(ours, mode, c).rate, r(theirs, mode, c).rate):4.2f}x req/s "
                        f"{ratio(cpu_per_request[(theirs, mode, c)], cpu_per_request[(ours, mode, c)]):4.2f}x CPU"
                        for c in (1, 16, 64)
                    )
                    print(f"  {ours:<10} {mode:<6} {figures}")
            base_rss = baseline_targets["baseline"][1]
            assert base_rss
            print(
                f"  peak RSS under load: {gw_rss.peak / 2**20:.1f} MiB,"
                f" {args.baseline}: {base_rss.peak / 2**20:.1f} MiB"
            )
        errors = sum(res.errors for res in results.values())
        if errors:
            print(f"ERRORS: {errors} non-200 answers during the run")
            sys.exit(1)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
