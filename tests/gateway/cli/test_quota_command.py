"""``switchboard-gateway quota``: a window whose reset time has passed since it was read says it
has reset, not the past time nor the use it had before."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.admin.state import State
from gateway.cli.main import main
from gateway.clock import SystemClock
from gateway.providers.quota import QuotaWindow
from gateway.routing.quota import QuotaRecord
from gateway.store import accounts as account_rows
from gateway.store.secrets import MemorySecrets

HOUR = 3600.0


def _window(name: str, used: float, resets_at: float, now: float) -> QuotaRecord:
    return QuotaRecord("codex:ada", "codex", QuotaWindow(name, used, resets_at, 18000), now - HOUR, used, now - HOUR)


def test_a_window_that_has_reset_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = time.time()
    (tmp_path / "data").mkdir()
    state = State(tmp_path / "data", MemorySecrets(), SystemClock())
    state.open()
    try:
        records = [_window("primary", 97.0, now - 600, now), _window("secondary", 40.0, now + 2 * HOUR, now)]
        state.db.writer.run(lambda conn: account_rows.save_quota(conn, [r.row() for r in records])).result()
    finally:
        state.close()

    assert main(["quota", "--home", str(tmp_path)]) == 0

    lines = {line.split()[1]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "0.0%" in lines["primary"] and "has reset" in lines["primary"] and "97.0%" not in lines["primary"]
    assert "40.0%" in lines["secondary"] and "has reset" not in lines["secondary"]
    assert time.strftime("%Y-%m-%d", time.gmtime(now + 2 * HOUR)) in lines["secondary"]
