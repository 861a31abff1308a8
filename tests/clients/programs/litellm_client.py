"""LiteLLM against the gateway, for tests/clients (adapters.LiteLLM): its ``ollama_chat/``,
``ollama/``, ``openai/`` and ``anthropic/`` providers, each generating, streaming and running a
tool loop. ``argv[1]`` is the job (gateway, header, prompts, cases); one JSON line per case."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import litellm

SHELL_TOOL = {
    "type": "function",
    "function": {
        "name": "shell",
        "description": "Run a shell command and return what it prints.",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string", "description": "The command line"}},
            "required": ["command"],
        },
    },
}
Answer = tuple[str, list[int] | None]  # the text and [input, output] tokens


def _call(case: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    """The arguments naming the model, the gateway and the case."""
    # OpenAI's base URL ends in /v1; the others' are the server's root, their paths carry the rest.
    api_base = job["gateway"] + ("/v1" if case["api"] == "openai" else "")
    return {
        "model": case["model"],
        "api_base": api_base,
        "api_key": "switchboard",
        "extra_headers": {job["header"]: case["id"]},
    }


def _counted(usage: Any) -> list[int]:
    return [usage.prompt_tokens, usage.completion_tokens]


async def generate(case: dict[str, Any], job: dict[str, Any]) -> Answer:
    answer = await litellm.acompletion(messages=[{"role": "user", "content": job["plain"]}], **_call(case, job))
    return answer.choices[0].message.content or "", _counted(answer.usage)


async def stream(case: dict[str, Any], job: dict[str, Any]) -> Answer:
    text, usage = "", None
    chunks = await litellm.acompletion(
        messages=[{"role": "user", "content": job["plain"]}],
        stream=True,
        stream_options={"include_usage": True},
        **_call(case, job),
    )
    async for chunk in chunks:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if getattr(chunk, "usage", None):
            usage = _counted(chunk.usage)
    return text, usage


async def tools(case: dict[str, Any], job: dict[str, Any]) -> Answer:
    messages: list[dict[str, Any]] = [{"role": "user", "content": job["shell"]}]
    usage = [0, 0]
    for _ in range(4):
        answer = await litellm.acompletion(messages=messages, tools=[SHELL_TOOL], **_call(case, job))
        usage = [a + b for a, b in zip(usage, _counted(answer.usage), strict=True)]
        message = answer.choices[0].message
        calls = message.tool_calls or []
        if not calls:
            return message.content or "", usage
        messages.append(
            {
                "role": "assistant",
                "content": message.content,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.function.name, "arguments": c.function.arguments},
                    }
                    for c in calls
                ],
            }
        )
        for call in calls:
            command = json.loads(call.function.arguments)["command"]
            output = subprocess.run(
                ["bash", "-c", command], capture_output=True, text=True, timeout=10, check=False
            ).stdout
            messages.append({"role": "tool", "tool_call_id": call.id, "content": output})
    raise RuntimeError("no final answer after 4 rounds")


SCENARIOS: dict[str, Callable[[dict[str, Any], dict[str, Any]], Awaitable[Answer]]] = {
    "generate": generate,
    "stream": stream,
    "tools": tools,
}


async def main(job: dict[str, Any]) -> None:
    for case in job["cases"]:
        try:
            text, usage = await SCENARIOS[case["scenario"]](case, job)
            line: dict[str, Any] = {"id": case["id"], "text": text, "usage": usage}
        except Exception as exc:  # reported as the case's failure; the next case still runs
            line = {"id": case["id"], "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
