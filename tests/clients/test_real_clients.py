"""The real clients (``adapters.CLIENTS``), in every scenario each has, through one gateway to
scripted fakes of every kind of upstream: Chat only (``groq``), Responses and Chat (``openai``),
Anthropic, native Ollama. The fakes answer as ``fakes.agent_script`` decides, so the agents run
real tool loops.

A case passes when the client says it succeeded; its answer is the script's (quoting what the
tools printed, in a tool scenario); the gateway answered every request it made without an error;
each model call was served by the case's route; and the usage the client reports is what that
upstream reported for those calls.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import ANTHROPIC_KEY, FAKE_KEY, local_off, provider_table
from fakes import responses_api
from fakes.agent_script import decide
from fakes.anthropic_upstream import USAGE as ANTHROPIC_USAGE
from fakes.anthropic_upstream import FakeAnthropic
from fakes.ollama_upstream import COUNTS, FakeOllama
from fakes.openai_upstream import FakeOpenAI

from clients.adapters import BY_NAME, CLAUDE_CODE_DEFAULT, CLIENTS, Case, Outcome, Place
from clients.harness import CLIENTS_ENV, Answers, Usage, clients_folder
from gateway import GatewayServer, load_settings
from gateway.store.secrets import MemorySecrets

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

CASES = [case for client in CLIENTS for case in client.cases()]
# What one answer of each upstream counts: the fakes' constants.
PER_ANSWER = {
    "openai": Usage(responses_api.USAGE["input_tokens"], responses_api.USAGE["output_tokens"]),
    "anthropic": Usage(
        sum(ANTHROPIC_USAGE[k] for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")),
        ANTHROPIC_USAGE["output_tokens"],
    ),
    "ollama": Usage(COUNTS["prompt_eval_count"], COUNTS["eval_count"]),
}


def per_answer(case: Case) -> Usage:
    if case.route == "groq":  # the Chat fake counts a stream's answer apart from a whole one
        prompt, completion, *_ = FakeOpenAI.usage_stream if case.streamed else FakeOpenAI.usage_whole
        return Usage(prompt, completion)
    return PER_ANSWER[case.route]


@dataclass(frozen=True)
class World:
    gateway: GatewayServer
    answers: Answers


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    fakes: dict[str, FakeOpenAI | FakeAnthropic] = {
        "groq": await FakeOpenAI(key=FAKE_KEY, responses=False).start(),
        "openai": await FakeOpenAI(key=FAKE_KEY).start(),
        "anthropic": await FakeAnthropic(key=ANTHROPIC_KEY, models=(CLAUDE_CODE_DEFAULT,)).start(),
        "ollama": await FakeOllama().start(),
    }
    for fake in fakes.values():
        fake.brain = decide
    folder = tmp_path_factory.mktemp("gateway")
    config = folder / "config.toml"
    config.write_text(
        local_off("ollama")
        + "".join(
            provider_table(name, fake, extra="local = true" if name == "ollama" else "") for name, fake in fakes.items()
        ),
        encoding="utf-8",
    )
    env = {"GROQ_KEY": FAKE_KEY, "OPENAI_KEY": FAKE_KEY, "ANTHROPIC_KEY": ANTHROPIC_KEY}
    gateway = GatewayServer(load_settings(config, env, port=0), data_dir=folder, secrets=MemorySecrets())
    answers = Answers()
    with answers.recording():
        await gateway.start()
        yield World(gateway, answers)
        await gateway.stop()
    for fake in fakes.values():
        await fake.stop()


class Runs:
    """Each client runs once, for all its selected cases, when its first case asks."""

    def __init__(self, world: World, clients: Path, folder: Path, selected: set[str]) -> None:
        self._world, self._clients, self._folder, self._selected = world, clients, folder, selected
        self._outcomes: dict[str, Outcome] = {}

    async def of(self, case: Case) -> Outcome:
        if case.id not in self._outcomes:
            client = BY_NAME[case.client]
            cases = [c for c in client.cases() if c.id in self._selected]
            place = Place(self._world.gateway.url, self._clients, self._folder / client.name, self._world.answers)
            self._outcomes.update(await client.run(cases, place))
        return self._outcomes[case.id]


@pytest.fixture(scope="module")
def installed() -> Path:
    clients = clients_folder()
    if not (clients / "node_modules").is_dir():
        if os.environ.get(CLIENTS_ENV):  # the install script ran and named it: it must be there
            pytest.fail(f"no clients installed in {clients}")
        pytest.skip(f"the real clients are not installed in {clients} (bash scripts/clients.sh)")
    return clients


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def runs(
    installed: Path, world: World, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Runs:
    return Runs(world, installed, tmp_path_factory.mktemp("clients"), _selected(request.session))


def _selected(session: pytest.Session) -> set[str]:
    """The cases this session runs (all, or those -k chose): only they are run."""
    ids = set()
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and isinstance(case := callspec.params.get("case"), Case):
            ids.add(case.id)
    return ids


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_the_real_client_works_through_the_gateway(case: Case, runs: Runs) -> None:
    outcome = await runs.of(case)
    refused = [str(e) for e in outcome.exchanges if e.status >= 400]
    assert not refused, f"the gateway refused: {refused}\n{outcome.problem}"
    assert not outcome.problem, outcome.problem
    for expected in BY_NAME[case.client].sentinels(case):
        assert expected in outcome.text, f"{expected!r} is not in the answer {outcome.text!r}"
    calls = [e for e in outcome.exchanges if e.model_call]
    assert calls, "no model call reached the gateway"
    assert all(e.route.startswith(f"{case.route}/") for e in calls), [e.route for e in calls]
    if BY_NAME[case.client].reports_usage:
        assert outcome.usage == per_answer(case).times(len(calls))
