"""A test request as each tool makes it — Claude Code's Anthropic Messages, Codex's Responses, VS
Code's Ollama chat, Continue's and OpenCode's Chat Completions — and what its answer says, in
words. Pure: app/tool_check.py sends it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROMPT = "Reply with one short sentence to say you are working."


@dataclass(frozen=True, slots=True)
class Probe:
    path: str  # under the gateway's root address
    headers: dict[str, str]
    body: dict[str, Any]
    protocol: str  # the tool's protocol, in words


def probe(tool_id: str, model: str, key: str | None) -> Probe:
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    user = [{"role": "user", "content": PROMPT}]
    if tool_id == "claude-code":
        body = {"model": model, "max_tokens": 200, "messages": user}
        return Probe("/v1/messages", {**auth, "anthropic-version": "2023-06-01"}, body, "Anthropic")
    if tool_id == "codex":
        return Probe("/v1/responses", auth, {"model": model, "input": PROMPT}, "OpenAI Responses")
    if tool_id == "vscode":
        return Probe("/api/chat", auth, {"model": model, "messages": user, "stream": False}, "Ollama")
    return Probe("/v1/chat/completions", auth, {"model": model, "messages": user}, "OpenAI")


def answer_text(tool_id: str, reply: Any) -> str:
    """The answer's text ("" when the reply holds none)."""
    if not isinstance(reply, dict):
        return ""
    if tool_id == "claude-code":
        parts = reply.get("content") or []
        return "".join(p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text").strip()
    if tool_id == "codex":
        texts = [
            part.get("text", "")
            for item in reply.get("output") or []
            if isinstance(item, dict) and item.get("type") == "message"
            for part in item.get("content") or []
            if isinstance(part, dict) and part.get("type") == "output_text"
        ]
        return "".join(texts).strip()
    if tool_id == "vscode":
        return str((reply.get("message") or {}).get("content") or "").strip()
    choices = reply.get("choices") or [{}]
    return str((choices[0].get("message") or {}).get("content") or "").strip()


def refusal_text(reply: Any) -> str:
    """The message of an error answer, in any of the protocols' shapes ("" when it has none)."""
    error = reply.get("error") if isinstance(reply, dict) else None
    if isinstance(error, dict):
        error = error.get("message")
    return error.strip() if isinstance(error, str) else ""


def outcome(tool_id: str, status: int, reply: Any) -> tuple[bool, str]:
    """Whether the test passed, and what to show."""
    if status >= 400:
        reason = refusal_text(reply) or f"it answered with an error ({status})"
        return False, f"Switchboard refused the test request: {reason}"
    text = answer_text(tool_id, reply)
    if not text:
        return False, "Switchboard answered, but with no text."
    shown = text if len(text) <= 300 else text[:299] + "…"
    return True, f"It works. The model answered: “{shown}”"
