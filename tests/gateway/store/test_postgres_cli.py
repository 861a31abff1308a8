"""``audit verify``, ``audit export``, ``usage`` and ``report`` from any of a team's machines: with
``[store] url`` set, the CLI reads the one chain and the one ledger in the shared PostgreSQL (this
machine's state folder holds no database)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import psycopg
import pytest
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.cli import main as cli
from gateway.store.ledger import LedgerRow
from gateway.store.postgres.store import PASSWORD_ENV, open_store
from gateway.store.seam import Event
from gateway.store.secrets import MemorySecrets


async def _appended(url: str, password: str, count: int) -> None:
    """``count`` events appended, and as many requests' rows written, from two gateways at once."""
    one, two = await asyncio.gather(open_store(url, password), open_store(url, password))
    try:
        now = time.time()
        await asyncio.gather(
            *(
                (one, two)[n % 2].ledger.write(
                    [
                        LedgerRow(
                            now - 60,
                            f"r{n}",
                            "request",
                            "alice",
                            "openai",
                            "gpt-5",
                            "openai",
                            "main",
                            "gpt-5",
                            100,
                            20,
                            0,
                            0,
                            False,
                            200,
                            "",
                            50.0,
                            10.0,
                            1,
                            cost=0.25,
                            tool="codex",
                        )
                    ]
                )
                for n in range(count)
            )
        )
        await asyncio.gather(
            *(
                (one, two)[n % 2].audit.append(Event(1_700_000_000_000 + n, "admin", "test", {"n": n}))
                for n in range(count)
            )
        )
    finally:
        await one.close()
        await two.close()


def test_audit_and_usage_commands_read_the_teams_one_chain_and_ledger(
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(_appended(postgres_url, postgres_server.password, 6))
    config = tmp_path / "team.toml"
    config.write_text(f'[store]\nurl = "{postgres_url}"\n', encoding="utf-8")
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: MemorySecrets())
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(PASSWORD_ENV, postgres_server.password)

    assert cli.main(["audit", "--config", str(config), "verify"]) == 0
    assert "6 events, one chain for all the team's gateways" in capsys.readouterr().out
    assert cli.main(["audit", "--config", str(config), "export", "--out", str(tmp_path / "export.jsonl")]) == 0
    assert cli.main(["audit", "verify", "--file", str(tmp_path / "export.jsonl")]) == 0
    assert "Exported audit log intact: 6 events" in capsys.readouterr().out

    assert cli.main(["usage", "--config", str(config), "--days", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["requests"] == 6
    assert cli.main(["report", "--config", str(config), "--view", "by-tool", "--json"]) == 0
    assert [(row["name"], row["requests"], row["cost"]) for row in json.loads(capsys.readouterr().out)] == [
        ("codex", 6, 1.5)
    ]

    with psycopg.connect(postgres_url, password=postgres_server.password, autocommit=True) as conn:
        conn.execute("UPDATE audit SET payload = '{\"n\":99}' WHERE seq = 4")
    assert cli.main(["audit", "--config", str(config), "verify"]) == 1
    assert "BROKEN at event 4" in capsys.readouterr().out
