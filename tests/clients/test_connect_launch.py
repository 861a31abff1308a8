"""``connect`` and ``launch`` with the real tools: ``switchboard-gateway connect claude-code`` writes
Claude Code's settings.json, and the real ``claude -p`` answers through the gateway with nothing
else telling it where the gateway is; ``switchboard-gateway launch codex exec …`` runs the real
Codex pointed at the gateway by its command line alone, changing no file. Both are served by a
scripted fake OpenAI upstream (Responses and Chat), named by a model only the gateway knows."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import FAKE_KEY, local_off, provider_table
from fakes.agent_script import PLAIN
from fakes.openai_upstream import FakeOpenAI

from clients.adapters import MODELS, PLAIN_PROMPT, TIMEOUT, Agent, ClaudeCode, Codex
from clients.harness import Answers, Finished, clients_folder, environment, run
from gateway import GatewayServer, load_settings
from gateway.store.secrets import MemorySecrets

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

MODEL = MODELS["openai"]
OFFLINE_CLAUDE = {  # telemetry and its other calls beyond the gateway: off, as in test_real_clients
    "DISABLE_TELEMETRY": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
}
OFFLINE_CODEX = [  # its start's calls beyond the gateway, off for this run only (as -c, like ours)
    "-c",
    "check_for_update_on_startup=false",
    "-c",
    "analytics.enabled=false",
    "-c",
    "features.plugins=false",
    "-c",
    "features.remote_plugin=false",
    "-c",
    "features.apps=false",
]


@pytest.fixture(scope="module")
def installed() -> Path:
    clients = clients_folder()
    if not (clients / "node_modules").is_dir():
        pytest.skip(f"the real clients are not installed in {clients} (bash scripts/clients.sh)")
    return clients


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[GatewayServer, Answers]]:
    from fakes.agent_script import decide

    fake = await FakeOpenAI(key=FAKE_KEY).start()
    fake.brain = decide
    folder = tmp_path_factory.mktemp("gateway")
    config = folder / "config.toml"
    config.write_text(local_off() + provider_table("openai", fake), encoding="utf-8")
    server = GatewayServer(
        load_settings(config, {"OPENAI_KEY": FAKE_KEY}, port=0), data_dir=folder, secrets=MemorySecrets()
    )
    answers = Answers()
    with answers.recording():
        await server.start()
        yield server, answers
        await server.stop()
    await fake.stop()


def _switchboard(*args: str) -> list[str]:
    return [sys.executable, "-m", "gateway", *args]


def _answered_through_the_gateway(finished: Finished, agent: Agent) -> None:
    """The tool answered the plain prompt, every model call served by the gateway's openai route."""
    text, _usage, problem = agent.read(finished)
    assert not problem, f"{problem}\n{finished.account()}"
    assert PLAIN in text
    calls = [e for e in finished.exchanges if e.model_call]
    assert calls, f"no model call reached the gateway\n{finished.account()}"
    assert all(e.status < 400 for e in finished.exchanges), [str(e) for e in finished.exchanges]
    assert all(e.route.startswith("openai/") for e in calls)


async def test_connect_claude_code_then_claude_answers_through_its_settings(
    installed: Path, gateway: tuple[GatewayServer, Answers], tmp_path: Path
) -> None:
    server, answers = gateway
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = environment(home, {})
    state = str(tmp_path / "state")
    connected = await run(
        _switchboard("connect", "claude-code", "--url", server.url, "--model", MODEL, "--home", state),
        env=env,
        cwd=work,
        answers=answers,
        timeout=TIMEOUT,
    )
    assert connected.status == 0, connected.account()
    settings = json.loads((home / ".claude" / "settings.json").read_text(encoding="utf-8"))
    assert settings["env"]["ANTHROPIC_BASE_URL"] == server.url

    claude = str(installed / "node_modules/.bin/claude")
    finished = await run(
        [claude, "-p", PLAIN_PROMPT, "--output-format", "stream-json", "--verbose"],
        env={**env, **OFFLINE_CLAUDE},  # nothing of the gateway's address or key: that is in settings.json
        cwd=work,
        answers=answers,
        timeout=TIMEOUT,
    )
    _answered_through_the_gateway(finished, ClaudeCode())

    restored = await run(
        _switchboard("connect", "claude-code", "--restore", "--home", state),
        env=env,
        cwd=work,
        answers=answers,
        timeout=TIMEOUT,
    )
    assert restored.status == 0, restored.account()
    assert not (home / ".claude" / "settings.json").exists()


async def test_launch_codex_answers_through_the_gateway_and_changes_no_file(
    installed: Path, gateway: tuple[GatewayServer, Answers], tmp_path: Path
) -> None:
    server, answers = gateway
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = environment(home, {})
    env["PATH"] = f"{installed / 'node_modules/.bin'}:{env['PATH']}"
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    finished = await run(
        _switchboard(
            "launch",
            "--url",
            server.url,
            "--model",
            MODEL,
            "--home",
            str(tmp_path / "state"),
            "codex",
            *OFFLINE_CODEX,
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
            PLAIN_PROMPT,
        ),
        env=env,
        cwd=work,
        answers=answers,
        timeout=TIMEOUT,
    )
    _answered_through_the_gateway(finished, Codex())
    assert not (home / ".codex" / "config.toml").exists()  # pointed by its command line, not its file
    written = [p for p in home.rglob("*") if p.relative_to(home) not in before and p.suffix == ".toml"]
    assert written == []
