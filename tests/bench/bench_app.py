"""The tray app under load and at rest (issue #7).

Busy: requests at a steady 200 per second (open loop: sent on schedule whether or not answers
are back) go through the gateway inside the app while its window turns to a new page every half
second, each page asking the gateway for what it shows. Reported: the UI event loop's latency
(how late a 5 ms timer fires; target p99 < 50 ms) and the gateway's request latency against the
headless gateway under the same load (target p99 within 1.2x). Both run at once, pinned to the
same CPU, and take turns at the load in several rounds; the median round is reported, so a shared
machine's noise hits both alike.

Idle: the app with its window hidden, as it sits in the tray; CPU time over the window (target:
next to nothing) and resident memory.

    python tests/bench/bench_app.py                # 20 s under load, 60 s idle
    python tests/bench/bench_app.py --quick        # a smoke run (figures meaningless)

The app runs in a child process (this file with --child) on Qt's offscreen platform.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from bench_gateway import BODY, CHAT, free_port, gateway_command, pin, wait_ready, write_config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RATE = 200  # requests per second
TICK = 0.005  # seconds between the UI probe's timer ticks
TURN_MS = 500  # a new page this often (--turn-ms)


# --- the app, in its own process ------------------------------------------------------------


def child(home: Path, port: int, seconds: float, busy: bool, turn_ms: int) -> None:
    """The app as ``python -m app`` makes it, plus a probe of its event loop; prints one JSON line
    of figures when done. ``busy``: the window open, turning pages; else hidden, as in the tray."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    sys.path.insert(0, str(ROOT))
    import qasync
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from app.application import Application
    from app.gateway_host import GatewayHost
    from app.platform.autostart import XdgAutostart
    from gateway import GatewaySetup, resolve_paths, start_logging, tune_for_serving

    qt = QApplication(["switchboard-bench"])
    # The app's own work runs on qasync's loop over Qt's, as in app/__main__.
    loop = qasync.QEventLoop(qt)
    asyncio.set_event_loop(loop)
    done = asyncio.Event()
    paths = resolve_paths(home, {})
    listener = start_logging("warning", None)
    setup = GatewaySetup(paths, {**os.environ, "SWITCHBOARD_HOME": str(home)}, port=port)
    host = GatewayHost(setup.server)
    app = Application(
        host, XdgAutostart(home / "xdg", ["switchboard"]), setup, tray_available=not busy, update_check_ms=None
    )
    lateness: list[float] = []
    last = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        if last[0]:
            lateness.append(max(0.0, now - last[0] - TICK))
        last[0] = now

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.timeout.connect(tick)
    turner = QTimer()
    pages = list(app.window.pages)
    turned = [0]

    def turn() -> None:
        turned[0] += 1
        app.window.go(pages[turned[0] % len(pages)])

    turner.timeout.connect(turn)

    def started(url: str) -> None:
        tune_for_serving()  # as app/__main__ does on the first start
        print(f"ready {url}", flush=True)
        if busy:
            app.open_window()
            turner.start(turn_ms)
            probe.start(int(TICK * 1000))
        QTimer.singleShot(int(seconds * 1000), done.set)

    failed: list[str] = []
    host.started.connect(started)

    def gave_up(message: str) -> None:
        print(f"failed {message}", flush=True)
        failed.append(message)
        done.set()

    host.failed.connect(gave_up)

    async def run() -> None:
        app.start()
        await done.wait()
        app.close()

    with loop:
        loop.run_until_complete(run())
    code = 1 if failed else 0
    listener.stop()
    ordered = sorted(lateness) or [float("nan")]
    figures = {
        "ticks": len(lateness),
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "pages_turned": turned[0],
    }
    print("figures " + json.dumps(figures), flush=True)
    sys.exit(code)


# --- load at a steady rate ------------------------------------------------------------------


async def paced(port: int, seconds: float, rate: int = RATE) -> tuple[list[float], int]:
    """Send ``rate`` requests a second on schedule for ``seconds``; each one's latency, and the
    count that failed."""
    latencies: list[float] = []
    errors = 0
    head = (
        f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\nConnection: close\r\n\r\n"
    ).encode() + BODY

    async def one() -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head)
            status = await reader.readline()
            await reader.read()  # to the end: the server closes after the answer
            writer.close()
            if b" 200 " not in status:
                errors += 1
                return
        except OSError:
            errors += 1
            return
        latencies.append(time.perf_counter() - started)

    tasks = []
    begin = time.perf_counter()
    for n in range(int(seconds * rate)):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    return latencies, errors


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def start_child(
    home: Path, port: int, seconds: float, busy: bool, cpus: set[int] | None, turn_ms: int = TURN_MS
) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(Path(__file__)), "--child", str(home), str(port), str(seconds), str(turn_ms)] + (
        ["--busy"] if busy else []
    )
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=HERE)
    pin(proc, cpus)
    wait_ready(proc, b"ready ")
    return proc


def child_figures(proc: subprocess.Popen[bytes]) -> dict[str, float]:
    out, _ = proc.communicate(timeout=120)
    for line in out.decode().splitlines():
        if line.startswith("figures "):
            return dict(json.loads(line.removeprefix("figures ")))
    raise RuntimeError(f"the app reported nothing (exit {proc.returncode})")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds under load per round, per target")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is reported")
    parser.add_argument("--turn-ms", type=int, default=TURN_MS, help="a new page this often")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds idle")
    parser.add_argument("--quick", action="store_true", help="smoke run: one 2 s round, 3 s idle")
    args = parser.parse_args()
    seconds, rounds, idle = (2.0, 1, 3.0) if args.quick else (args.seconds, max(1, args.rounds), args.idle)

    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    proxy_cpus = client_cpus = None
    if len(cpus) >= 2:  # the app or gateway on one CPU, the upstream and the load on the rest
        proxy_cpus, client_cpus = {min(cpus)}, cpus - {min(cpus)}
        os.sched_setaffinity(0, client_cpus)
    procs: list[subprocess.Popen[bytes]] = []
    home = Path(tempfile.mkdtemp(prefix="switchboard-bench-app-"))
    try:
        up_port = free_port()
        upstream = subprocess.Popen(
            [sys.executable, str(HERE / "fast_upstream.py"), str(up_port)], stdout=subprocess.PIPE
        )
        procs.append(upstream)
        pin(upstream, client_cpus)
        wait_ready(upstream, b"ready")

        # Headless and in the app: the same config, the same load, taking turns.
        write_config(home / "headless", up_port)
        headless_port, app_port = free_port(), free_port()
        headless = subprocess.Popen(gateway_command(home / "headless", headless_port), stdout=subprocess.PIPE)
        procs.append(headless)
        pin(headless, proxy_cpus)
        wait_ready(headless, b"listening on")
        write_config(home / "app", up_port)
        app = start_child(home / "app", app_port, 2 * rounds * seconds + 6.0, True, proxy_cpus, args.turn_ms)
        procs.append(app)
        await paced(headless_port, 1.0)  # warm-up
        await paced(app_port, 1.0)
        found: dict[str, list[tuple[list[float], int]]] = {"headless": [], "app": []}
        for _ in range(rounds):
            found["headless"].append(await paced(headless_port, seconds))
            found["app"].append(await paced(app_port, seconds))
        ui = child_figures(app)
        headless.terminate()
        headless.wait(30)
        (direct, direct_errors), (in_app, app_errors) = (
            sorted(found[name], key=lambda r: pct(r[0], 99))[len(found[name]) // 2] for name in ("headless", "app")
        )
        ratios = sorted(pct(a[0], 99) / pct(h[0], 99) for h, a in zip(found["headless"], found["app"], strict=True))

        write_config(home / "idle", up_port)
        rest = start_child(home / "idle", free_port(), idle + 3.0, False, proxy_cpus)
        procs.append(rest)
        watched = psutil.Process(rest.pid)
        await asyncio.sleep(2.0)  # let the first status and model list settle
        before = watched.cpu_times()
        await asyncio.sleep(idle)
        after = watched.cpu_times()
        rss = watched.memory_info().rss
        child_figures(rest)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)

    idle_cpu = (after.user + after.system) - (before.user + before.system)
    print(
        f"load: {RATE} req/s, {rounds} rounds of {seconds:g} s each, "
        f"window turning to a new page every {args.turn_ms} ms ({ui['pages_turned']} turns)"
    )
    print(f"{'':18}{'p50':>9}{'p99':>9}{'max':>9}{'errors':>8}")
    for name, values, errors in (("headless gateway", direct, direct_errors), ("gateway in app", in_app, app_errors)):
        print(
            f"{name:18}{pct(values, 50) * 1000:8.2f}ms{pct(values, 99) * 1000:8.2f}ms"
            f"{max(values, default=float('nan')) * 1000:8.2f}ms{errors:8d}"
        )
    print(
        f"UI event loop lateness: p50 {ui['p50_ms']:.2f} ms, p99 {ui['p99_ms']:.2f} ms, "
        f"max {ui['max_ms']:.2f} ms over {ui['ticks']} ticks (target p99 < 50 ms)"
    )
    ratio = pct(in_app, 99) / pct(direct, 99) if direct and in_app else float("nan")
    each = " ".join(f"{r:.2f}" for r in ratios)
    print(
        f"gateway p99 in app / headless: {ratio:.2f}x, median rounds (target <= 1.20x; per round: {each}); "
        f"p50 {statistics.median(in_app) / statistics.median(direct):.2f}x"
    )
    print(
        f"idle, window hidden: {idle_cpu:.3f} s CPU over {idle:g} s ({idle_cpu / idle * 100:.2f} % of a core); "
        f"RSS {rss / 1048576:.0f} MiB"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), "--busy" in sys.argv, int(sys.argv[5]))
    else:
        asyncio.run(main())
