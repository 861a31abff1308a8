"""``--self-test`` from source: every piece a bundle needs is used, a gateway on a free port
answers /health and /v1/models, and a failing check fails the whole test, named."""

from __future__ import annotations

import subprocess
import sys

from gateway.runtime import self_test


def test_every_check_passes_from_source() -> None:
    said: list[str] = []
    assert self_test.run(write=said.append) == 0
    names = [line.split()[1].rstrip(":") for line in said if line.startswith("  ok")]
    assert names == ["tokenizer", "catalog", "argon2", "jwt", "aes-gcm", "keyring", "GET", "GET", "https"]
    assert said[-1] == "self-test passed" and "from source" in said[0]


def test_a_failing_check_fails_the_test_by_name() -> None:
    def broken() -> str:
        raise ImportError("No module named 'PySide6.QtWidgets'")

    said: list[str] = []
    assert self_test.run([("qt", broken)], write=said.append) == 1
    assert "  FAIL qt: ImportError: No module named 'PySide6.QtWidgets'" in said
    assert said[-1] == "self-test FAILED: qt"


def test_the_gateway_command_runs_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "--self-test"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("self-test passed") and done.stderr == ""
