"""``python -m app`` as a person starts it: it serves, a second launch brings the first forward
and exits 0, SIGTERM quits cleanly; with no display it runs the headless gateway and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")


def _launch(home: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--home", str(home), "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_address(process: subprocess.Popen[str], marker: str) -> str:
    assert process.stdout is not None
    for _ in range(20):
        line = process.stdout.readline()
        if marker in line:
            return line.rsplit(" ", 1)[1].strip()
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"no '{marker}' line; stderr: {process.stderr.read() if process.stderr else ''}")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", OLLAMA_URL="http://127.0.0.1:9", **extra)
    return env


def test_the_app_serves_stays_single_and_quits_on_sigterm(tmp_path: Path) -> None:
    env = _env(QT_QPA_PLATFORM="offscreen")
    first = _launch(tmp_path, env)
    try:
        url = _wait_for_address(first, "listening on")
        with urllib.request.urlopen(f"{url}/health", timeout=10) as r:
            assert r.status == 200
        second = subprocess.run(
            [sys.executable, "-m", "app", "--home", str(tmp_path)], env=env, capture_output=True, text=True, timeout=30
        )
        assert second.returncode == 0 and "already running" in second.stdout
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
    finally:
        first.kill()


def test_without_a_display_the_headless_gateway_runs(tmp_path: Path) -> None:
    process = _launch(tmp_path, _env())
    try:
        assert process.stdout is not None
        assert "no display here" in process.stdout.readline()
        url = _wait_for_address(process, "listening on")
        with urllib.request.urlopen(f"{url}/health", timeout=10) as r:
            assert r.status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        process.kill()


def test_the_self_test_checks_qt_too_even_without_a_display(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", "--self-test"],
        env=_env(HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "  ok   qt: platform offscreen" in done.stdout and done.stdout.strip().endswith("self-test passed")
    assert not any(tmp_path.iterdir())  # nothing of the user's touched: no state made in their home
