"""A name for the conversation a request belongs to, the same for every turn of it: the client's
session id when it sends one, else a hash of the conversation's opening (its system prompt or
instructions and its first user message), which later turns repeat unchanged."""

from __future__ import annotations

import hashlib
from typing import Any

from gateway.formats.common import jsonbody

# Headers coding tools send to name a session (Codex CLI: session_id).
SESSION_HEADERS = ("session_id", "x-session-id", "x-claude-code-session-id", "conversation_id", "x-conversation-id")


def conversation_key(body: dict[str, Any], session: str | None = None) -> str:
    if session:
        return "session:" + session[:200]
    opening: list[Any] = [body.get("system"), body.get("instructions"), body.get("prompt")]
    for field in ("messages", "input"):
        items = body.get(field)
        if isinstance(items, str):
            opening.append(items)
        elif isinstance(items, list):
            opening.append(next((m for m in items if isinstance(m, dict) and m.get("role") == "user"), None))
    return "opening:" + hashlib.blake2b(jsonbody.encode(opening), digest_size=16).hexdigest()
