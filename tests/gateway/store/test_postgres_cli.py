"""``audit verify`` and ``audit export`` from any of a team's machines: with ``[store] url`` set, the
CLI reads the one chain in the shared PostgreSQL (this machine's state folder holds no database)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.cli import main as cli
from gateway.store.postgres.store import PASSWORD_ENV, open_store
from gateway.store.seam import Event
from gateway.store.secrets import MemorySecrets


async def _appended(url: str, password: str, count: int) -> None:
    """``count`` events appended from two gateways at once."""
    one, two = await asyncio.gather(open_store(url, password), open_store(url, password))
    try:
        await asyncio.gather(
            *(
                (one, two)[n % 2].audit.append(Event(1_700_000_000_000 + n, "admin", "test", {"n": n}))
                for n in range(count)
            )
        )
    finally:
        await one.close()
        await two.close()


def test_audit_verify_and_export_read_the_teams_one_chain(
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

    with psycopg.connect(postgres_url, password=postgres_server.password, autocommit=True) as conn:
        conn.execute("UPDATE audit SET payload = '{\"n\":99}' WHERE seq = 4")
    assert cli.main(["audit", "--config", str(config), "verify"]) == 1
    assert "BROKEN at event 4" in capsys.readouterr().out
