"""The one adapter behind every OpenAI-compatible upstream in the catalog.

It turns a checked call into an ``UpstreamRequest`` (URL, headers, body) and turns an upstream's
error answer into an ``UpstreamStatus`` in OpenAI's terms, whatever shape the server used:
OpenAI's ``{"error": {...}}``, Gemini's array form, FastAPI's ``{"detail": ...}``, a bare string
or an HTML page. Only the provider's own credential and a short allow-list of headers go upstream
(SECURITY.md S27).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.core.models import ModelEntry
from gateway.errors import UpstreamStatus
from gateway.formats import jsonbody, openai_chat, openai_embeddings
from gateway.formats.openai_models import parse_model_list
from gateway.providers.ratelimit import parse_duration, retry_after
from gateway.providers.settings import ProviderSettings
from gateway.redact import redact
from gateway.transport import UpstreamRequest
from gateway.version import __version__

MAX_ERROR_MESSAGE = 1000
USER_AGENT = f"Switchboard/{__version__}"

_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def _default_type(status: int) -> str:
    return _TYPE_BY_STATUS.get(status, "server_error" if status >= 500 else "invalid_request_error")


class OpenAICompatible:
    """A configured OpenAI-compatible upstream."""

    __slots__ = ("_base", "_headers_for", "id", "settings")

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.id = settings.id
        self._base = settings.base_url
        # The headers every request carries, per Accept value, built once.
        self._headers_for = {
            accept: (
                ("Content-Type", "application/json"),
                ("Accept", accept),
                ("User-Agent", USER_AGENT),
                *settings.headers,
            )
            for accept in ("application/json", "text/event-stream")
        }

    def _headers(self, key: str | None, request_id: str, accept: str) -> tuple[tuple[str, str], ...]:
        headers = (*self._headers_for[accept], ("X-Request-Id", request_id))
        if not key or self.settings.auth == "none":
            return headers
        if self.settings.auth == "api-key":
            return (*headers, ("api-key", key))
        return (*headers, ("Authorization", f"Bearer {key}"))

    def chat_request(
        self, call: openai_chat.ChatCall, upstream_model: str, key: str | None, request_id: str
    ) -> UpstreamRequest:
        body = openai_chat.upstream_body(call, upstream_model, ask_usage=self.settings.stream_usage)
        accept = "text/event-stream" if call.stream else "application/json"
        return UpstreamRequest(
            provider=self.id,
            method="POST",
            url=f"{self._base}/chat/completions",
            headers=self._headers(key, request_id, accept),
            body=body,
            timeouts=self.settings.timeouts,
        )

    def embeddings_request(
        self,
        call: openai_embeddings.EmbeddingCall,
        upstream_model: str,
        key: str | None,
        request_id: str,
    ) -> UpstreamRequest:
        return UpstreamRequest(
            provider=self.id,
            method="POST",
            url=f"{self._base}/embeddings",
            headers=self._headers(key, request_id, "application/json"),
            body=openai_embeddings.upstream_body(call, upstream_model),
            timeouts=self.settings.timeouts,
        )

    def models_request(self, key: str | None, request_id: str) -> UpstreamRequest:
        headers = tuple(h for h in self._headers(key, request_id, "application/json") if h[0] != "Content-Type")
        return UpstreamRequest(
            provider=self.id,
            method="GET",
            url=self.settings.models_url or f"{self._base}/models",
            headers=headers,
            timeouts=self.settings.timeouts,
        )

    def parse_models(self, body: bytes) -> list[ModelEntry]:
        return parse_model_list(body, self.id, self.settings.model_prefix)

    def error(
        self, status: int, headers: Mapping[str, str], body: bytes, now: float, keys: tuple[str, ...]
    ) -> UpstreamStatus:
        """The upstream's error answer in OpenAI's terms, with credentials masked."""
        message, error_type, code, param, delay = _read_error_body(body)
        if not message:
            message = _describe_body(status, headers.get("Content-Type", ""), body)
        wait = retry_after(headers, now)
        if wait is None and delay is not None:
            wait = retry_after({"retry-after": str(delay)}, now)
        return UpstreamStatus(
            f"{self.id}: {redact(message, *keys)[:MAX_ERROR_MESSAGE]}",
            provider=self.id,
            status=status,
            error_type=error_type or _default_type(status),
            code=redact(code, *keys)[:100] if code else None,
            param=param,
            retry_after=wait if status == 429 or status == 503 else None,
        )

    def embedded_error(self, body: bytes, now: float, keys: tuple[str, ...]) -> UpstreamStatus | None:
        """An error object inside a success answer (some servers do this), as a 502."""
        if not _read_error_body(body)[0]:
            return None
        return self.error(502, {}, body, now, keys)


def _read_error_body(body: bytes) -> tuple[str, str | None, str | None, str | None, float | None]:
    """(message, type, code, param, retry delay) from the JSON error shapes servers use."""
    try:
        parsed: Any = jsonbody.loads(body)
    except ValueError:
        return "", None, None, None, None
    if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict):
        parsed = parsed[0]  # Gemini sometimes wraps the error in an array
    if not isinstance(parsed, dict):
        return "", None, None, None, None
    err = parsed.get("error", parsed)
    if isinstance(err, str):
        return err, None, None, None, None
    if not isinstance(err, dict):
        return "", None, None, None, None
    message = err.get("message") or err.get("detail") or err.get("msg") or ""
    if not isinstance(message, str):
        message = jsonbody.encode(message).decode()[:MAX_ERROR_MESSAGE]
    error_type = err.get("type")
    code = err.get("code", err.get("status"))
    param = err.get("param")
    return (
        message,
        error_type if isinstance(error_type, str) else None,
        str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None,
        param if isinstance(param, str) else None,
        _retry_delay(err.get("details")),
    )


def _retry_delay(details: Any) -> float | None:
    """Gemini's ``RetryInfo.retryDelay`` (e.g. "30s") from an error's details list."""
    if not isinstance(details, list):
        return None
    for detail in details:
        if isinstance(detail, dict) and isinstance(detail.get("retryDelay"), str):
            return parse_duration(detail["retryDelay"])
    return None


def _describe_body(status: int, content_type: str, body: bytes) -> str:
    """A safe description of a non-JSON error body: never an HTML page echoed back (B33)."""
    if "html" in content_type.lower() or body.lstrip()[:1] == b"<":
        return f"upstream answered HTTP {status} with an HTML page"
    text = " ".join(body.decode("utf-8", "replace").split())
    if text and text.isprintable():
        return f"upstream answered HTTP {status}: {text[:200]}"
    return f"upstream answered HTTP {status}"
