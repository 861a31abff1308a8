"""An upstream's error answer, whatever its shape, in the gateway's terms.

Servers answer errors as OpenAI's ``{"error": {...}}``, Anthropic's ``{"type": "error", "error":
{...}}``, Gemini's array form, FastAPI's ``{"detail": ...}``, a bare string, or an HTML page.
All become an ``UpstreamStatus`` with the status kept and credentials masked; an HTML page is
described, never echoed (B33).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.errors import UpstreamStatus
from gateway.formats.common import jsonbody
from gateway.providers.ratelimit import clamp_wait, parse_duration, should_retry, wait_seconds
from gateway.redact import redact

MAX_ERROR_MESSAGE = 1000

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


def upstream_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes, now: float, keys: tuple[str, ...]
) -> UpstreamStatus:
    message, error_type, code, param, delay = _read_error_body(body)
    if not message:
        message = _describe_body(status, headers.get("Content-Type", ""), body)
    resets_in = wait_seconds(headers, now)
    if resets_in is None:
        resets_in = delay
    wait = None if resets_in is None else clamp_wait(resets_in)
    return UpstreamStatus(
        f"{provider}: {redact(message, *keys)[:MAX_ERROR_MESSAGE]}",
        provider=provider,
        status=status,
        error_type=error_type or _default_type(status),
        code=redact(code, *keys)[:100] if code else None,
        param=param,
        retry_after=wait if status in (429, 503, 529) else None,
        resets_in=resets_in,
        should_retry=should_retry(headers),
    )


def embedded_error(provider: str, body: bytes, now: float, keys: tuple[str, ...]) -> UpstreamStatus | None:
    """An error object inside a success answer (some servers do this), as a 502."""
    if not _read_error_body(body)[0]:
        return None
    return upstream_error(provider, 502, {}, body, now, keys)


def missing_endpoint(err: UpstreamStatus) -> bool:
    """Whether a 404 or 405 says the server has no such endpoint ("404 page not found", an HTML
    page, FastAPI's ``{"detail": "Not Found"}``), rather than that it has no such model (OpenAI's
    ``model_not_found``, Anthropic's ``not_found_error`` naming the model, Azure's deployments)."""
    if err.status not in (404, 405):
        return False
    said = " ".join((err.code or "", err.param or "", err.message.partition(": ")[2])).lower()
    return "model" not in said and "deployment" not in said


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
