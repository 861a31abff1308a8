"""``keys create --limit dollars_per_day 2.50``: a budget with cents from the command line, shown by
``keys list`` in dollars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main as cli
from gateway.cli import status_text
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


def test_status_shows_a_keys_budgets_in_dollars_and_no_budget_where_it_has_none() -> None:
    def key(label: str, budget: float | None) -> dict[str, Any]:
        usage = {
            "requests_per_minute": {"used": 3, "limit": 60},
            "tokens_per_day": {"used": 812, "limit": None},
            "dollars_per_day": {"used": 1.534, "limit": budget},
            "dollars_per_month": {"used": 1.534, "limit": None},
        }
        return {
            "prefix": "sk-sb-x",
            "last4": "0001",
            "tier": "custom",
            "label": label,
            "revoked_at": None,
            "usage": usage,
        }

    access = {
        "secrets": {"kind": "memory", "where": "this process"},
        "require_keys": True,
        "audit": {"anchor_problem": None},
    }
    lines = status_text._access({**access, "keys": [key("bot", 5.0), key("laptop", None)]})
    assert lines[1].endswith("bot                  req/minute 3/60  tok/day 812/∞  $/day 1.53/5.00")
    assert lines[2].endswith("laptop               req/minute 3/60  tok/day 812/∞")
