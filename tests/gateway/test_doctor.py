"""``doctor``: a working provider, one that refuses its key, one that cannot be reached and an alias
to a model nobody lists give one finding each, in words with the fix; the exit code says whether
anything is broken; ``--json`` prints the findings as a list."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import FAKE_KEY, free_ports, local_off, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway.cli import main as cli
from gateway.store.secrets import MemorySecrets


@pytest.fixture
async def refusing() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key="sk-the-key-it-wants-00001").start()
    yield fake
    await fake.stop()


def home_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str) -> Path:
    port, _ = free_ports(2)
    (tmp_path / "config.toml").write_text(f"[server]\nport = {port}\n\n{config}{local_off()}")
    monkeypatch.setattr(cli, "opener_from", lambda env: lambda data_dir: MemorySecrets())
    for name in ("OPENAI_API_KEY", "GROQ_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("GOOD_KEY", "REFUSED_KEY", "GONE_KEY"):
        monkeypatch.setenv(name, FAKE_KEY)
    return tmp_path


async def doctor(home: Path, *flags: str) -> int:
    """The command, off the event loop that serves the fakes (it runs its own)."""
    return await asyncio.to_thread(cli.main, ["doctor", "--home", str(home), *flags])


async def test_each_fault_is_a_finding_and_the_exit_code_says_broken(
    upstream: FakeOpenAI,
    refusing: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = (
        provider_table("good", upstream)
        + provider_table("refused", refusing)
        + f'[providers.gone]  # nothing listens there\nkind = "openai-compatible"\n'
        f'base_url = "http://127.0.0.1:{free_ports(1)[0]}/v1"\n'
        'api_key_env = "GONE_KEY"\n\n'
        '[aliases]\nsmart = "good/gpt-test"\nretired = "good/gpt-gone-away"\nlost = "gone/gpt-test"\n\n'
    )
    home = home_with(tmp_path, monkeypatch, config)
    assert await doctor(home, "--json") == 1
    findings = {(f["area"], f["subject"]): f for f in json.loads(capsys.readouterr().out)}
    assert findings[("provider", "good")]["verdict"] == "ok"
    refused = findings[("provider", "refused")]
    assert (refused["verdict"], refused["fix"], refused["fix_subject"]) == ("broken", "store_key", "refused")
    unreachable = findings[("provider", "gone")]
    assert (unreachable["verdict"], unreachable["fix"], unreachable["fix_subject"]) == (
        "broken",
        "check_connection",
        "127.0.0.1",
    )
    assert findings[("rule", "smart")]["verdict"] == "ok"
    retired = findings[("rule", "retired")]
    assert retired["verdict"] == "broken" and "gpt-gone-away" in retired["words"]
    lost = findings[("rule", "lost")]  # its provider has no list: not known missing, not known listed
    assert lost["verdict"] == "note" and "could not be asked" in lost["words"]
    assert findings[("secrets", "memory")]["verdict"] == "note"
    assert next(f for f in findings.values() if f["area"] == "port")["verdict"] == "note"  # nothing serves
    assert set(next(iter(findings.values()))) == {"area", "subject", "verdict", "words", "advice", "fix", "fix_subject"}


async def test_all_well_exits_0_with_a_line_each(
    upstream: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = home_with(tmp_path, monkeypatch, provider_table("good", upstream) + '[aliases]\nsmart = "good/gpt-test"\n\n')
    assert await doctor(home) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "ok      good answers and lists 3 models." in lines
    assert not any(line.startswith("BROKEN") for line in lines)


async def test_a_refused_key_says_the_command_that_fixes_it(
    refusing: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = home_with(tmp_path, monkeypatch, provider_table("refused", refusing))
    assert await doctor(home) == 1
    out = capsys.readouterr().out
    assert "BROKEN  refused refuses its key. Store one with 'python -m gateway providers set-key refused'" in out
