from __future__ import annotations

import json
from typing import TypedDict, Unpack

import pytest

from gateway.formats import openai_chat
from gateway.providers.openai_compatible import OpenAICompatible
from gateway.providers.settings import ProviderSettings

NOW = 1_700_000_000.0
KEY = "sk-provider-secret-abcdef123456"


class Options(TypedDict, total=False):
    """The ProviderSettings these tests vary."""

    auth: str
    headers: tuple[tuple[str, str], ...]
    model_prefix: str


def adapter(**kw: Unpack[Options]) -> OpenAICompatible:
    return OpenAICompatible(
        ProviderSettings(id="p", name="P", base_url="https://api.example.com/v1", keys=(KEY,), **kw)
    )


def test_chat_request_carries_only_the_credential_and_safe_headers() -> None:
    call = openai_chat.parse_request({"model": "p/m", "messages": [{"role": "user", "content": "x"}], "stream": True})
    request = adapter(headers=(("X-Title", "Switchboard"),)).primary.passthrough_request(call, "m", KEY, call.canonical)
    headers = dict(request.headers)
    assert request.url == "https://api.example.com/v1/chat/completions"
    assert headers == {
        "Content-Type": "application/json",
        "Accept": "text/event-stream",
        "User-Agent": "Switchboard/0.1.0",
        "X-Title": "Switchboard",
        "Authorization": f"Bearer {KEY}",
    }  # and no request id: llama-cpp-python's server refuses one that is not a UUID
    assert request.body is not None
    assert json.loads(request.body)["model"] == "m"


def test_api_key_header_style_and_no_auth() -> None:
    call = openai_chat.parse_request({"model": "p/m", "messages": [{"role": "user", "content": "x"}]})
    request = adapter(auth="api-key").primary.passthrough_request(call, "m", KEY, call.canonical)
    assert dict(request.headers)["api-key"] == KEY
    assert "Authorization" not in dict(adapter().primary.passthrough_request(call, "m", None, call.canonical).headers)


@pytest.mark.parametrize(
    ("status", "body", "message", "etype", "code"),
    [
        (
            429,
            b'{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}',
            "Rate limit reached",
            "requests",
            "rate_limit_exceeded",
        ),
        (
            429,
            b'[{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED",'
            b'"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"}]}}]',
            "Resource exhausted",
            "rate_limit_error",
            "429",
        ),
        (422, b'{"detail":"model field required"}', "model field required", "invalid_request_error", None),
        (500, b'{"error":"llama runner crashed"}', "llama runner crashed", "server_error", None),
        (503, b"<html>down</html>", "HTML page", "server_error", None),
        (400, b"plain text\nproblem", "plain text problem", "invalid_request_error", None),
        (
            401,
            json.dumps(
                {"error": {"message": f"Incorrect API key provided: {KEY}", "code": "invalid_api_key"}}
            ).encode(),
            "Incorrect API key",
            "authentication_error",
            "invalid_api_key",
        ),
    ],
)
def test_error_shapes_become_openai_errors(
    status: int, body: bytes, message: str, etype: str, code: str | None
) -> None:
    err = adapter().error(status, {"Content-Type": "application/json"}, body, NOW, (KEY,))
    assert err.status == status and message in err.message and err.message.startswith("p: ")
    assert err.error_type == etype and err.code == code
    assert KEY not in err.message and "abcdef123456" not in err.message


def test_gemini_retry_delay_becomes_retry_after() -> None:
    body = b'[{"error":{"code":429,"message":"x","details":[{"retryDelay":"30s"}]}}]'
    assert adapter().error(429, {}, body, NOW, ()).retry_after == 30


def test_models_are_parsed_with_the_prefix_stripped() -> None:
    gemini = adapter(model_prefix="models/")
    entries = gemini.parse_models(
        b'{"object":"list","data":[{"id":"models/gemini-2.0-flash","created":5},{"id":"x"},{"nope":1}]}'
    )
    assert [(e.id, e.created) for e in entries] == [("p/gemini-2.0-flash", 5), ("p/x", 0)]
    assert [e.upstream_id for e in adapter().parse_models(b'[{"id":"openai/gpt-4.1"}]')] == ["openai/gpt-4.1"]
    with pytest.raises(ValueError):
        adapter().parse_models(b'{"object":"list"}')
