"""``launch``: a tool run once, pointed at the gateway through its own command line and
environment — no file of the user's is changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gateway.admin.tool_setup import claude_code, codex
from gateway.admin.tool_setup.target import Target, ToolSetupError

PROGRAMS = {"claude": "claude", "codex": "codex"}  # what ``launch`` accepts → the program run


def command(
    program: str, path: str, target: Target, args: Sequence[str], env: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """``program`` found at ``path``: the arguments and environment to run it with."""
    if program == "claude":
        return [path, *args], {**env, **claude_code.environment(target)}
    if program == "codex":
        extra = {codex.KEY_ENV: target.key} if target.key else {}
        return [path, *codex.overrides(target), *args], {**env, **extra}
    raise ToolSetupError(f"Switchboard can launch {' or '.join(PROGRAMS)}, not {program[:40]!r}.")
