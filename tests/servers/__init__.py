"""Real servers the team-mode tests run against: each started from Debian's package on a free loopback
port in a temporary folder, and stopped after (fixtures loaded by tests/conftest.py)."""

from __future__ import annotations

import subprocess


def end_process(process: subprocess.Popen[bytes] | None) -> None:
    """Ask ``process`` to end, and make it when it has not within ten seconds."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
