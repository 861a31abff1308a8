"""A ChatGPT subscription as an upstream: the Codex backend's Responses endpoint
(protocols.md §7.5–7.7).

- Every request streams (non-streaming clients get the answer gathered from the stream) and
  carries only the fields Codex itself sends (``CODEX_FIELDS``), with ``instructions`` present
  and ``store`` false; reasoning asks for its encrypted content back, as Codex does.
- Headers: the account's ``ChatGPT-Account-Id`` (from its ``Access``), ``originator``, a
  Codex-style User-Agent (generic ones can meet a bot wall), and ``session_id`` together with
  ``prompt_cache_key``, both derived from the conversation so its prompt cache keeps hitting.
- Quota comes from the ``x-codex-*`` headers and the in-stream ``codex.rate_limits`` event; a
  429 ``usage_limit_reached`` rests the account until the window's reset it names.
- Models come from ``/models?client_version=…`` (``{"models": [{"slug": …}]}``).
"""

from __future__ import annotations

import platform
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from gateway.core.chat import ChatRequest
from gateway.core.models import ModelEntry
from gateway.errors import UpstreamStatus
from gateway.formats.common import jsonbody
from gateway.formats.common.conversation import conversation_key
from gateway.formats.openai.models import parse_model_list
from gateway.formats.openai_responses import codec
from gateway.formats.openai_responses.checks import ResponsesCall
from gateway.formats.openai_responses.collect import collect
from gateway.providers.access import Key
from gateway.providers.base import BaseProvider, Dialect, ProviderCapabilities
from gateway.providers.quota import QuotaWindow, codex_event, codex_headers
from gateway.providers.responses import Responses
from gateway.providers.settings import ProviderSettings
from gateway.transport import UpstreamRequest

# The Codex CLI release these requests imitate; the models endpoint lists what that release may use.
CODEX_VERSION = "0.60.1"
ORIGINATOR = "codex_cli_rs"
# The body fields Codex itself sends (codex-rs ResponsesApiRequest). The backend is known to
# refuse some others (previous_response_id, stream_options, ...), and whether it takes
# max_output_tokens, temperature or top_p is unconfirmed: so only these go.
CODEX_FIELDS = frozenset(
    {
        "model",
        "instructions",
        "input",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning",
        "store",
        "stream",
        "include",
        "prompt_cache_key",
        "text",
    }
)
_SESSION_SPACE = uuid.UUID("6f1c8a52-4a4b-4f0e-9d1e-2b7f4c3a9e10")


def codex_body(body: Mapping[str, Any], model: str) -> tuple[dict[str, Any], str]:
    """The body as the subscription endpoint takes it, and the conversation's session id."""
    out = {k: v for k, v in body.items() if k in CODEX_FIELDS}
    session = str(uuid.uuid5(_SESSION_SPACE, conversation_key(dict(body))))
    text_input = out.get("input")
    if isinstance(text_input, str):
        out["input"] = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text_input}]}]
    reasoning = out.get("reasoning")
    if isinstance(reasoning, dict) and reasoning.get("effort") not in (None, "none"):
        include = out.get("include")
        include = [i for i in include if i != "reasoning.encrypted_content"] if isinstance(include, list) else []
        out["include"] = [*include, "reasoning.encrypted_content"]
    out.update(model=model, stream=True, store=False, instructions=out.get("instructions") or "")
    out.setdefault("prompt_cache_key", session)
    return out, session


class CodexResponses(Responses):
    """Responses as the subscription endpoint speaks it: always streamed, fields trimmed."""

    def passthrough_request(
        self, call: ResponsesCall, upstream_model: str, key: Key, canonical: Callable[[], ChatRequest]
    ) -> UpstreamRequest:
        return self._request(call.body, upstream_model, key)

    def translated_request(self, request: ChatRequest, upstream_model: str, key: Key) -> UpstreamRequest:
        return self._request(codec.encode_request(request, upstream_model), upstream_model, key)

    def _request(self, body: Mapping[str, Any], model: str, key: Key) -> UpstreamRequest:
        out, session = codex_body(body, model)
        return self._provider.post(self._path, jsonbody.encode(out), key, stream=True, extra=(("session_id", session),))

    def collect(self, stream: bytes) -> bytes:
        return collect(stream, self._provider.id)


class CodexProvider(BaseProvider):
    models_path = f"/models?client_version={CODEX_VERSION}"
    user_agent = (
        f"{ORIGINATOR}/{CODEX_VERSION} ({platform.system()} {platform.release()}; {platform.machine()}) switchboard"
    )

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        responses = CodexResponses(self)
        self.dialects: dict[str, Dialect] = {Responses.protocol: responses}
        self.primary: Dialect = responses
        self.capabilities = ProviderCapabilities(stream_quota=self._stream_quota)

    def _fixed_headers(self) -> tuple[tuple[str, str], ...]:
        return (("originator", ORIGINATOR), ("OpenAI-Beta", "responses=experimental"), *self.settings.headers)

    def parse_models(self, body: bytes) -> list[ModelEntry]:
        parsed = jsonbody.loads(body)
        models = parsed.get("models") if isinstance(parsed, dict) else None
        if not isinstance(models, list) or not any(isinstance(m, dict) and "slug" in m for m in models):
            return parse_model_list(body, self.id)
        entries = []
        for model in models:
            if (
                not isinstance(model, dict)
                or not isinstance(model.get("slug"), str)
                or model.get("visibility") == "hide"
            ):
                continue
            context = model.get("context_window")
            reasons = bool(model.get("supported_reasoning_levels"))
            capabilities = ("completion", "tools", "vision", *(("thinking",) if reasons else ()))
            entries.append(
                ModelEntry(
                    self.id, model["slug"], 0, context if type(context) is int and context > 0 else 0, 0, capabilities
                )
            )
        return entries

    def quota(self, headers: Mapping[str, str], now: float) -> tuple[QuotaWindow, ...]:
        return codex_headers(headers, now)

    def _stream_quota(self, payload: dict[str, Any]) -> tuple[QuotaWindow, ...]:
        return codex_event(payload) if payload.get("type") == "codex.rate_limits" else ()

    def error(
        self, status: int, headers: Mapping[str, str], body: bytes, now: float, keys: tuple[str, ...]
    ) -> UpstreamStatus:
        """A used-up window rests the account until that window resets, as the answer says."""
        err = super().error(status, headers, body, now, keys)
        if status == 429 and (reset := _reset_of(body, headers, now)) is not None:
            err.resets_in = max(err.resets_in or 0.0, reset)
        return err


def _reset_of(body: bytes, headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until an exhausted window resets: the error's ``resets_in_seconds`` /
    ``resets_at``, else the latest reset of the windows the headers report as full."""
    try:
        error = jsonbody.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        for field, base in (("resets_in_seconds", 0.0), ("resets_at", now)):
            value = error.get(field)
            if isinstance(value, int | float) and not isinstance(value, bool) and value - base > 0:
                return float(value - base)
    full = [w.resets_at - now for w in codex_headers(headers, now) if w.exhausted and w.resets_at and w.resets_at > now]
    return max(full) if full else None
