"""The benchmark must keep working: one quick run end to end (its figures mean nothing here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from servers.nginx import nginx_missing
from servers.postgres import postgres_missing
from servers.redis import redis_missing


def test_benchmark_runs_and_reports_every_figure() -> None:
    bench = Path(__file__).with_name("bench_gateway.py")
    result = subprocess.run(
        [sys.executable, str(bench), "--quick"], capture_output=True, text=True, timeout=300, cwd=bench.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for figure in (
        "throughput gateway/passthrough",
        "usage ledger / without",
        "added p50 latency",
        "added time to first streamed byte",
        "cold start",
        "peak RSS",
        "translated stream",
    ):
        assert figure in result.stdout
    rows = [line.split() for line in result.stdout.splitlines()]
    rows = [
        r
        for r in rows
        if len(r) == 9
        and r[0] in ("direct", "passthrough", "pass+gc", "gateway", "no-ledger", "translated")
        and r[1] in ("json", "stream")
    ]
    assert len(rows) == 36  # 6 targets x 2 modes x 3 concurrencies


def test_decide_benchmark_runs_and_reports_every_prompt() -> None:
    bench = Path(__file__).with_name("bench_decide.py")
    result = subprocess.run(
        [sys.executable, str(bench), "--seconds", "0.05"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert [r[0] for r in rows] == ["greeting", "question", "coding", "design"]
    # decide auto, auto:fast, pinned name, decode only — then the route chosen (provider/model)
    assert all(all(cell.endswith("µs") for cell in r[2:6]) and r[6].count("/") >= 1 for r in rows)


def test_reports_benchmark_runs_every_view() -> None:
    bench = Path(__file__).with_name("bench_reports.py")
    result = subprocess.run(
        [sys.executable, str(bench), "--rows", "20000"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "slowest report" in result.stdout
    assert {line.split()[0] for line in result.stdout.splitlines()[2:-1]} == {
        "summary",
        "by-model",
        "by-provider",
        "by-caller",
        "by-protocol",
        "by-tool",
        "timeseries",
        "recent",
    }


def test_app_benchmark_runs_and_reports_every_figure() -> None:
    bench = Path(__file__).with_name("bench_app.py")
    result = subprocess.run(
        [sys.executable, str(bench), "--quick"], capture_output=True, text=True, timeout=300, cwd=bench.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for figure in (
        "headless gateway",
        "gateway in app",
        "UI event loop lateness",
        "gateway p99 in app / headless",
        "idle, window hidden",
    ):
        assert any(line.startswith(figure) for line in lines), figure
    rows = [line.split() for line in lines if line.startswith(("headless gateway", "gateway in app"))]
    assert all(r[-1] == "0" for r in rows)  # no request failed


def test_soak_benchmark_reports_memory_descriptors_and_the_ledger_and_loses_nothing_to_kills() -> None:
    bench = Path(__file__).with_name("bench_soak.py")
    soak = subprocess.run(
        [sys.executable, str(bench), "--seconds", "2", "--every", "1", "--concurrency", "4"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=bench.parent,
    )
    assert soak.returncode == 0, soak.stdout + soak.stderr
    assert soak.stdout.splitlines()[1].split() == ["s", "answered", "req/s", "RSS", "MiB", "fds", "ledger", "trailing"]
    assert "MiB per 10k requests" in soak.stdout
    assert "usage ledger after a clean stop" in soak.stdout and "(+0)" in soak.stdout
    crash = subprocess.run(
        [sys.executable, str(bench), "--kills", "2", "--kill-every", "0.5", "--concurrency", "4"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=bench.parent,
    )
    assert crash.returncode == 0, crash.stdout + crash.stderr
    assert "after 2 kill -9 under load" in crash.stdout and "lost 0; held twice 0" in crash.stdout


def test_shared_limits_benchmark_runs_and_stays_shared() -> None:
    if (reason := redis_missing()) is not None:
        pytest.skip(reason)
    bench = Path(__file__).with_name("bench_shared_limits.py")
    result = subprocess.run([sys.executable, str(bench), "--quick"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line[:20].strip(): line.split()[-1] for line in result.stdout.splitlines()[1:]}
    assert rows == {"in-process": "no", "redis, 1 gateway": "no", "redis, 2 gateways": "no"}, result.stdout


def test_store_benchmark_runs_on_both_back_ends() -> None:
    if (reason := postgres_missing()) is not None:
        pytest.skip(reason)
    bench = Path(__file__).with_name("bench_store.py")
    result = subprocess.run([sys.executable, str(bench), "--quick"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line[:22].strip() for line in result.stdout.splitlines()[1:]]
    assert rows == ["sqlite", "postgres, 1 gateway", "postgres, 2 gateways"], result.stdout
    assert all(float(figure) > 0 for line in result.stdout.splitlines()[1:] for figure in line[22:].split())


def test_clients_benchmark_measures_every_client_on_every_point() -> None:
    bench = Path(__file__).with_name("bench_clients.py")
    result = subprocess.run([sys.executable, str(bench), "--quick"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert {(r[0], r[1], r[2], r[3]) for r in rows} == {
        (scheme, mode, conc, client)
        for scheme in ("http", "https")
        for mode in ("json", "stream")
        for conc in ("1", "16")
        for client in ("ours", "httpx", "aiohttp")
    }, result.stdout
    assert all(float(r[4]) > 0 and float(r[5]) > 0 for r in rows)


def test_team_benchmark_measures_every_configuration_and_the_shared_state() -> None:
    for reason in (postgres_missing(), redis_missing(), nginx_missing()):
        if reason is not None:
            pytest.skip(reason)
    bench = Path(__file__).with_name("bench_team.py")
    result = subprocess.run(
        [sys.executable, str(bench), "--quick"], capture_output=True, text=True, timeout=300, cwd=bench.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    rows = {(r[0], r[1]): r[2:] for r in (line.split() for line in lines[2:]) if len(r) == 12}
    targets = ("direct", "sqlite", "pg", "pg+redis", "nginx+1", "nginx+2")
    assert set(rows) == {(t, c) for t in targets for c in ("1", "16")}, result.stdout
    for (target, _), figures in rows.items():
        rate, p50, p99, _, _, gateway, postgres, redis, nginx, errors = figures
        assert float(rate) > 0 and float(p50) > 0 and float(p99) > 0 and errors == "0", result.stdout
        if target != "direct":
            assert float(gateway) > 0, result.stdout  # its CPU was read from /proc
        if target.startswith("nginx"):
            assert float(nginx) > 0 and float(redis) >= 0 and float(postgres) >= 0, result.stdout
        if target == "pg":
            assert redis == "-" and float(postgres) >= 0, result.stdout  # no Redis: its limits in-process
    for level in ("1", "16"):
        for figure in (
            "cost per request of the shared state (pg+redis - sqlite)",
            "  of which PostgreSQL's (pg - sqlite)",
            "  of which Redis's (pg+redis - pg)",
            "two gateways against one behind nginx",
        ):
            assert any(line.startswith(f"{figure}, c={level}: ") for line in lines), (figure, result.stdout)
