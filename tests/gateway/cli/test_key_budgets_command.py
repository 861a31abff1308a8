"""``keys create --limit dollars_per_day 2.50``: a budget with cents from the command line, shown by
``keys list`` in dollars."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main as cli
from gateway.store.secrets import MemorySecrets


def test_a_key_is_made_with_dollar_budgets_and_listed_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = MemorySecrets()
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: secrets)
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path))
    budgets = ["--limit", "dollars_per_day", "2.50", "--limit", "dollars_per_month", "40"]
    assert cli.main(["keys", "create", "--label", "bot", *budgets]) == 0
    assert cli.main(["keys", "list", "--json"]) == 0
    capsys.readouterr()
    assert cli.main(["keys", "list", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["limits"] == {"dollars_per_day": 2.5, "dollars_per_month": 40}
    assert cli.main(["keys", "list"]) == 0
    assert "budget $2.50 a day, $40.00 a month (30 days)" in capsys.readouterr().out
    assert cli.main(["keys", "create", "--label", "bad", "--limit", "requests_per_minute", "2.5"]) == 2
