"""Each real client as a small adapter: its cases, how it is pointed at the gateway, how it runs
without a person, and how its answer and usage are read.

The coding agents (Claude Code, Codex, Continue) run once per case; the SDK clients run all their
cases in one program (``programs/``), which prints one JSON line per case, so LiteLLM's import and
node's start are paid once. Every client sends its case's id in ``CASE_HEADER``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.agent_script import FILE_TEXT, PLAIN, READ, SHELL, SHELL_OUTPUT

from clients.harness import CASE_HEADER, Answers, Exchange, Finished, Usage, environment, run

PROGRAMS = Path(__file__).with_name("programs")
CLAUDE_CODE_DEFAULT = "claude-opus-5-5"  # the model Claude Code 2.1.332 asks for when told none
# The model each route serves, as clients name it: provider/model.
MODELS = {
    "groq": "groq/gpt-test",  # an OpenAI-compatible server with Chat Completions only
    "openai": "openai/gpt-test",  # Responses and Chat Completions
    "anthropic": f"anthropic/{CLAUDE_CODE_DEFAULT}",
    "ollama": "ollama/llama3.2:latest",  # the native Ollama API
}
PLAIN_PROMPT = "Say hello."
SHELL_PROMPT = f"Check the machine: {SHELL}."
TIMEOUT = 60.0  # seconds for one program; the clients answer in a few


@dataclass(frozen=True, slots=True)
class Case:
    client: str
    route: str  # the provider that serves it (MODELS)
    scenario: str  # "plain" or "tools" for agents; "generate", "stream" or "tools" for SDKs
    api: str = ""  # the client's own provider or API, where it has several
    streamed: bool = True  # whether the client asks for a stream (the Chat fake's usage differs)

    @property
    def id(self) -> str:
        return "-".join(part for part in (self.client, self.api, self.route, self.scenario) if part)


@dataclass(frozen=True, slots=True)
class Outcome:
    text: str  # the client's final answer
    usage: Usage | None  # as the client reports it
    problem: str  # "" when the client says it succeeded
    exchanges: tuple[Exchange, ...]  # the gateway's answers to this case's requests


@dataclass(frozen=True, slots=True)
class Place:
    gateway: str  # the gateway's root URL
    clients: Path  # the install folder (node_modules)
    folder: Path  # a fresh folder for the run
    answers: Answers


class Client(ABC):
    name = ""
    reports_usage = True

    @abstractmethod
    def cases(self) -> list[Case]: ...

    def sentinels(self, case: Case) -> tuple[str, ...]:
        """What its final answer must contain: the script's plain answer, or the tools' outputs
        the script quotes once they came back."""
        return (SHELL_OUTPUT,) if case.scenario == "tools" else (PLAIN,)

    @abstractmethod
    async def run(self, cases: list[Case], place: Place) -> dict[str, Outcome]: ...


# --- the coding agents: one run per case -------------------------------------------------------


class Agent(Client):
    routes: tuple[str, ...] = ()

    def cases(self) -> list[Case]:
        return [Case(self.name, route, scenario) for route in self.routes for scenario in ("plain", "tools")]

    def prompt(self, case: Case, work: Path) -> str:
        return SHELL_PROMPT if case.scenario == "tools" else PLAIN_PROMPT

    @abstractmethod
    def command(
        self, case: Case, place: Place, home: Path, work: Path, prompt: str
    ) -> tuple[list[str], dict[str, str]]:
        """The program's arguments and its environment (beyond the isolated home's)."""

    @abstractmethod
    def read(self, finished: Finished) -> tuple[str, Usage | None, str]:
        """The final answer, the usage and the problem, from what the program printed."""

    async def run(self, cases: list[Case], place: Place) -> dict[str, Outcome]:
        outcomes = {}
        for case in cases:
            home, work = place.folder / case.id / "home", place.folder / case.id / "work"
            work.mkdir(parents=True)
            argv, extra = self.command(case, place, home, work, self.prompt(case, work))
            finished = await run(argv, env=environment(home, extra), cwd=work, answers=place.answers, timeout=TIMEOUT)
            text, usage, problem = self.read(finished)
            outcomes[case.id] = Outcome(text, usage, problem and f"{problem}\n{finished.account()}", finished.exchanges)
        return outcomes


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:  # a log line that happens to start with a brace
                continue
    return lines


class ClaudeCode(Agent):
    """``claude -p`` with stream-json output. Root may not skip permissions, so the two tools the
    script asks for are allowed by name."""

    name = "claude-code"
    routes = ("groq", "anthropic", "ollama")

    def prompt(self, case: Case, work: Path) -> str:
        if case.scenario != "tools":
            return PLAIN_PROMPT
        note = work / "note.txt"
        note.write_text(f"The note says {FILE_TEXT}.\n", encoding="utf-8")
        return f"{SHELL_PROMPT} Then {READ} {note}"

    def sentinels(self, case: Case) -> tuple[str, ...]:
        return (SHELL_OUTPUT, FILE_TEXT) if case.scenario == "tools" else (PLAIN,)

    def command(
        self, case: Case, place: Place, home: Path, work: Path, prompt: str
    ) -> tuple[list[str], dict[str, str]]:
        argv = [
            str(place.clients / "node_modules/.bin/claude"),
            "-p",
            prompt,
            "--output-format",
            "stream-json",
            "--verbose",
            "--allowedTools",
            "Bash",
            "Read",
        ]
        # To the Anthropic provider it runs as its users run it, with its own default model (whose
        # requests carry system messages between turns); to the others, told the model by name.
        chosen = (
            {}
            if case.route == "anthropic"
            else {"ANTHROPIC_MODEL": MODELS[case.route], "ANTHROPIC_SMALL_FAST_MODEL": MODELS[case.route]}
        )
        return argv, {
            **chosen,
            "ANTHROPIC_BASE_URL": place.gateway,
            "ANTHROPIC_AUTH_TOKEN": "switchboard",
            "ANTHROPIC_CUSTOM_HEADERS": f"{CASE_HEADER}: {case.id}",
            # Off: telemetry and every other call it makes beyond the gateway (at the "essential
            # traffic" level it also skips its HEAD /api/hello to the gateway before a session).
            "DISABLE_TELEMETRY": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
        }

    def read(self, finished: Finished) -> tuple[str, Usage | None, str]:
        results = [line for line in _json_lines(finished.out) if line.get("type") == "result"]
        if not results:
            return "", None, "no result message"
        result = results[-1]
        usage = result.get("usage") or {}
        counted = Usage(
            sum(usage.get(k) or 0 for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")),
            usage.get("output_tokens") or 0,
        )
        failed = result.get("is_error") or result.get("subtype") != "success"
        return str(result.get("result") or ""), counted, f"result: {result.get('subtype')}" if failed else ""


class Codex(Agent):
    """``codex exec`` with the README's config.toml and otherwise its default settings (its
    namespace and web_search tools included); approvals and the sandbox are off so its shell runs
    in a container as root. Off too: what reaches the internet at its start (analytics, the update
    check, the plugin catalogue from GitHub, ChatGPT's connectors); the requests it sends the model
    are the same without them."""

    name = "codex"
    routes = ("openai", "groq", "anthropic", "ollama")

    def command(
        self, case: Case, place: Place, home: Path, work: Path, prompt: str
    ) -> tuple[list[str], dict[str, str]]:
        codex_home = home / ".codex"
        codex_home.mkdir(parents=True)
        (codex_home / "config.toml").write_text(
            f'model = "{MODELS[case.route]}"\n'
            'model_provider = "switchboard"\n'
            "check_for_update_on_startup = false\n\n"
            "[analytics]\nenabled = false\n\n"
            "[model_providers.switchboard]\n"
            'name = "Switchboard"\n'
            f'base_url = "{place.gateway}/v1"\n'
            'wire_api = "responses"\n'
            f'http_headers = {{ "{CASE_HEADER}" = "{case.id}" }}\n\n'
            "[features]\nplugins = false\nremote_plugin = false\napps = false\n",
            encoding="utf-8",
        )
        argv = [
            str(place.clients / "node_modules/.bin/codex"),
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
            prompt,
        ]
        return argv, {"CODEX_HOME": str(codex_home)}

    def read(self, finished: Finished) -> tuple[str, Usage | None, str]:
        events = _json_lines(finished.out)
        said = [
            e["item"].get("text", "")
            for e in events
            if e.get("type") == "item.completed" and e["item"].get("type") == "agent_message"
        ]
        turns = [e for e in events if e.get("type") == "turn.completed"]
        failures = [json.dumps(e) for e in events if e.get("type") in ("error", "turn.failed")]
        usage = turns[-1].get("usage") or {} if turns else None
        counted = Usage(usage.get("input_tokens") or 0, usage.get("output_tokens") or 0) if usage is not None else None
        problem = "\n".join(failures) or ("" if turns and finished.status == 0 else "no completed turn")
        return (said[-1] if said else ""), counted, problem


class Continue(Agent):
    """``cn -p`` (headless) with a config.yaml whose one model is an OpenAI provider at the
    gateway; ``--auto`` lets its tools run. It prints the answer and no usage."""

    name = "continue"
    routes = ("groq",)
    reports_usage = False

    def command(
        self, case: Case, place: Place, home: Path, work: Path, prompt: str
    ) -> tuple[list[str], dict[str, str]]:
        config = home / "config.yaml"
        home.mkdir(parents=True, exist_ok=True)
        config.write_text(
            "name: Switchboard test\nversion: 0.0.1\nschema: v1\nmodels:\n"
            f"  - name: Switchboard\n    provider: openai\n    model: {MODELS[case.route]}\n"
            f"    apiBase: {place.gateway}/v1\n    apiKey: switchboard\n    roles: [chat]\n"
            f"    requestOptions:\n      headers:\n        {CASE_HEADER}: {case.id}\n",
            encoding="utf-8",
        )
        argv = [str(place.clients / "node_modules/.bin/cn"), "-p", "--config", str(config), "--auto", prompt]
        return argv, {"CONTINUE_GLOBAL_DIR": str(home / ".continue"), "CONTINUE_CLI_ENABLE_TELEMETRY": "0"}

    def read(self, finished: Finished) -> tuple[str, Usage | None, str]:
        return finished.out.strip(), None, "" if finished.status == 0 else "cn failed"


# --- the SDK clients: one program for all their cases ------------------------------------------


class Program(Client):
    #: (api, route) pairs, each run in every scenario but those its API lacks.
    apis: tuple[tuple[str, str], ...] = ()
    lacking: frozenset[tuple[str, str]] = frozenset()  # (api, scenario)

    def cases(self) -> list[Case]:
        return [
            Case(self.name, route, scenario, api, streamed=scenario == "stream")
            for api, route in self.apis
            for scenario in ("generate", "stream", "tools")
            if (api, scenario) not in self.lacking
        ]

    @abstractmethod
    def model(self, case: Case) -> str:
        """The model as the client names it."""

    @abstractmethod
    def command(self, place: Place, job: str) -> tuple[list[str], dict[str, str]]: ...

    async def run(self, cases: list[Case], place: Place) -> dict[str, Outcome]:
        job = json.dumps(
            {
                "gateway": place.gateway,
                "header": CASE_HEADER,
                "plain": PLAIN_PROMPT,
                "shell": SHELL_PROMPT,
                "cases": [{"id": c.id, "api": c.api, "model": self.model(c), "scenario": c.scenario} for c in cases],
            }
        )
        place.folder.mkdir(parents=True)
        argv, extra = self.command(place, job)
        finished = await run(
            argv,
            env=environment(place.folder / "home", extra),
            cwd=place.folder,
            answers=place.answers,
            timeout=TIMEOUT,
        )
        reported = {line["id"]: line for line in _json_lines(finished.out) if "id" in line}
        outcomes = {}
        for case in cases:
            line = reported.get(case.id) or {"error": "no answer printed"}
            usage = Usage(*line["usage"]) if line.get("usage") and None not in line["usage"] else None
            problem = line.get("error") or ""
            # Requests that name no case (none should) are shown with every case of the run.
            exchanges = tuple(e for e in finished.exchanges if e.case in (case.id, ""))
            outcomes[case.id] = Outcome(
                line.get("text") or "", usage, problem and f"{problem}\n{finished.account()}", exchanges
            )
        return outcomes


class LiteLLM(Program):
    """LiteLLM's providers, from the .venv (or the venv clients-latest.sh made)."""

    name = "litellm"
    apis = (("ollama_chat", "ollama"), ("ollama", "ollama"), ("openai", "groq"), ("anthropic", "anthropic"))
    lacking = frozenset({("ollama", "tools")})  # /api/generate takes no tools

    def model(self, case: Case) -> str:
        return f"{case.api}/{MODELS[case.route]}"  # LiteLLM takes its provider's prefix off

    def command(self, place: Place, job: str) -> tuple[list[str], dict[str, str]]:
        python = place.clients / "python/bin/python"  # clients-latest.sh's own venv
        argv = [str(python) if python.exists() else sys.executable, str(PROGRAMS / "litellm_client.py"), job]
        return argv, {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}  # no fetch at import


class NodeProgram(Program):
    script = ""

    def model(self, case: Case) -> str:
        return MODELS[case.route]

    def command(self, place: Place, job: str) -> tuple[list[str], dict[str, str]]:
        # An ES module finds packages in node_modules beside it (NODE_PATH is for require only).
        for source in (PROGRAMS / self.script, PROGRAMS / "common.mjs"):
            shutil.copy(source, place.folder)
        os.symlink(place.clients / "node_modules", place.folder / "node_modules")
        return ["node", str(place.folder / self.script), job], {}


class AISDK(NodeProgram):
    """The Vercel AI SDK: @ai-sdk/openai's Chat and Responses models, @ai-sdk/anthropic."""

    name = "ai-sdk"
    script = "ai_sdk_client.mjs"
    apis = (("chat", "groq"), ("responses", "openai"), ("anthropic", "anthropic"))


class OllamaJS(NodeProgram):
    """The ollama package for JavaScript."""

    name = "ollama-js"
    script = "ollama_client.mjs"
    apis = (("", "ollama"),)


CLIENTS: tuple[Client, ...] = (ClaudeCode(), Codex(), Continue(), LiteLLM(), AISDK(), OllamaJS())
BY_NAME = {client.name: client for client in CLIENTS}
