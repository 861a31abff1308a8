"""GitHub Copilot as an upstream (protocols.md §8.4–8.8).

- The chat address comes with each account's short-lived token (``endpoints.api``), so it is in
  the account's ``Access``; the editor headers are fixed here.
- Each model goes out where the models list says it may (``supported_endpoints``): a client's own
  protocol when listed, else ``/v1/messages`` first (Claude keeps its thinking), then
  ``/chat/completions``, then ``/responses``.
- ``X-Initiator`` is ``user`` only for a genuine user turn (the last message is the user's, and
  is not a tool result); tool-loop follow-ups are ``agent``, so they spend no premium request.
  ``Copilot-Vision-Request`` is set when an image is in the conversation.
- Quota comes from the per-response ``x-quota-snapshot-*`` header; models carry their limits,
  capabilities and premium multipliers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, ClassVar

from gateway.core.chat import ChatRequest, ImagePart, ToolResult
from gateway.core.models import ModelEntry
from gateway.core.protocols import ProtocolId
from gateway.formats.common import jsonbody
from gateway.formats.common.jsonbody import BodyError, as_object
from gateway.providers.access import Key
from gateway.providers.base import BaseProvider, Dialect, ProviderCapabilities
from gateway.providers.chat_completions import ChatCompletions
from gateway.providers.messages import Messages, count_tokens_of
from gateway.providers.quota import QuotaWindow, copilot_headers
from gateway.providers.responses import Responses
from gateway.providers.settings import ProviderSettings
from gateway.transport import UpstreamRequest

EDITOR_VERSION = "vscode/1.104.1"
PLUGIN_VERSION = "copilot-chat/0.31.3"
API_VERSION = "2025-04-01"
PATHS: dict[ProtocolId, str] = {
    "openai-chat": "/chat/completions",
    "anthropic": "/v1/messages",
    "openai-responses": "/responses",
}
# For a model the client's protocol cannot reach.
_TRANSLATE_TO: tuple[ProtocolId, ...] = ("anthropic", "openai-chat", "openai-responses")


def turn_headers(request: ChatRequest | None, intent: str) -> tuple[tuple[str, str], ...]:
    """Who started this turn, whether it holds images, and what kind of call it is."""
    initiator = "user"
    vision = False
    if request is not None:
        last = next((m for m in reversed(request.messages) if m.role != "system"), None)
        if last is not None and (last.role != "user" or any(isinstance(p, ToolResult) for p in last.parts)):
            initiator = "agent"
        vision = any(isinstance(p, ImagePart) for m in request.messages for p in m.parts)
    headers = [("X-Initiator", initiator), ("Openai-Intent", intent)]
    if intent == "messages-proxy":
        headers.append(("X-Interaction-Type", intent))
    if vision:
        headers.append(("Copilot-Vision-Request", "true"))
    return tuple(headers)


def _canonical(canonical: Callable[[], ChatRequest]) -> ChatRequest | None:
    try:
        return canonical()
    except BodyError:
        return None  # a body only the upstream understands: count it as the user's own turn


def _with(request: UpstreamRequest, headers: tuple[tuple[str, str], ...]) -> UpstreamRequest:
    return replace(request, headers=(*request.headers, *headers))


class _Turns:
    """Adds the turn's headers to whatever request the dialect it is mixed into builds."""

    intent: ClassVar[str]

    def passthrough_request(
        self, call: Any, upstream_model: str, key: Key, canonical: Callable[[], ChatRequest]
    ) -> UpstreamRequest:
        request = super().passthrough_request(call, upstream_model, key, canonical)  # type: ignore[misc]
        return _with(request, turn_headers(_canonical(canonical), self.intent))

    def translated_request(self, request: ChatRequest, upstream_model: str, key: Key) -> UpstreamRequest:
        built = super().translated_request(request, upstream_model, key)  # type: ignore[misc]
        return _with(built, turn_headers(request, self.intent))


class CopilotChat(_Turns, ChatCompletions):
    intent = "conversation-panel"


class CopilotMessages(_Turns, Messages):
    intent = "messages-proxy"


class CopilotResponses(_Turns, Responses):
    intent = "conversation-panel"


class CopilotProvider(BaseProvider):
    user_agent = f"GitHubCopilotChat/{PLUGIN_VERSION.partition('/')[2]}"

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.dialects: dict[str, Dialect] = {
            "openai-chat": CopilotChat(self, PATHS["openai-chat"]),
            "anthropic": CopilotMessages(self, PATHS["anthropic"]),
            "openai-responses": CopilotResponses(self, PATHS["openai-responses"]),
        }
        self.primary: Dialect = self.dialects["openai-chat"]
        self.capabilities = ProviderCapabilities(count_tokens=count_tokens_of(self.dialects))
        self.endpoints: dict[str, frozenset[str]] = {}  # model -> the paths the models list allows
        self.multipliers: dict[str, float] = {}  # model -> premium requests one call costs

    def _fixed_headers(self) -> tuple[tuple[str, str], ...]:
        return (
            ("Copilot-Integration-Id", "vscode-chat"),
            ("Editor-Version", EDITOR_VERSION),
            ("Editor-Plugin-Version", PLUGIN_VERSION),
            ("X-GitHub-Api-Version", API_VERSION),
            ("X-VSCode-User-Agent-Library-Version", "electron-fetch"),
            *self.settings.headers,
        )

    def route(self, protocol: ProtocolId, upstream_model: str) -> tuple[Dialect, bool]:
        allowed = self.endpoints.get(upstream_model)
        if allowed is None or PATHS.get(protocol) in allowed:
            return super().route(protocol, upstream_model)
        for other in _TRANSLATE_TO:
            if PATHS[other] in allowed:
                return self.dialects[other], False
        return self.primary, protocol == "openai-chat"

    def parse_models(self, body: bytes) -> list[ModelEntry]:
        """Chat models that are enabled for the account, with their limits, capabilities,
        endpoints and multipliers; the default chat model first."""
        parsed = jsonbody.loads(body)
        items = parsed.get("data") if isinstance(parsed, dict) else None
        if not isinstance(items, list):
            raise ValueError("no model list in the response")
        entries: list[tuple[bool, ModelEntry]] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            caps = as_object(item.get("capabilities"))
            policy = as_object(item.get("policy"))
            if caps.get("type") != "chat" or policy.get("state", "enabled") != "enabled":
                continue
            model = item["id"]
            limits, supports = as_object(caps.get("limits")), as_object(caps.get("supports"))
            endpoints = item.get("supported_endpoints")
            if isinstance(endpoints, list):
                self.endpoints[model] = frozenset(e for e in endpoints if isinstance(e, str))
            multiplier = as_object(item.get("billing")).get("multiplier")
            if isinstance(multiplier, int | float) and not isinstance(multiplier, bool):
                self.multipliers[model] = float(multiplier)
            found = ["completion"]
            found += [
                name
                for flag, name in (("tool_calls", "tools"), ("vision", "vision"), ("thinking", "thinking"))
                if supports.get(flag)
            ]
            entry = ModelEntry(
                self.id,
                model,
                0,
                _whole(limits.get("max_prompt_tokens") or limits.get("max_context_window_tokens")),
                _whole(limits.get("max_output_tokens")),
                tuple(found),
            )
            entries.append((item.get("is_chat_default") is True, entry))
        return [e for default, e in entries if default] + [e for default, e in entries if not default]

    def quota(self, headers: Mapping[str, str], now: float) -> tuple[QuotaWindow, ...]:
        return copilot_headers(headers)


def _whole(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0
