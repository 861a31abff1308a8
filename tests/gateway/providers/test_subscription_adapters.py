"""The Codex and Copilot adapters' own rules: the body the subscription endpoint takes, a whole
answer gathered from a stream, who started a Copilot turn, and where each Copilot model goes."""

from __future__ import annotations

import json

import pytest

from gateway.core.chat import ChatRequest, ImagePart, Message, TextPart, ToolResult
from gateway.errors import UpstreamStatus
from gateway.formats.openai_responses.collect import collect
from gateway.providers.codex import CodexProvider, codex_body
from gateway.providers.copilot import CopilotProvider, turn_headers
from gateway.providers.settings import ProviderSettings


def test_codex_body_keeps_only_what_codex_sends_and_forces_its_rules() -> None:
    body = {
        "model": "x",
        "input": "hi",
        "stream": False,
        "store": True,
        "temperature": 0.5,
        "previous_response_id": "r",
        "stream_options": {},
        "safety_identifier": "s",
        "reasoning": {"effort": "high"},
        "include": ["other"],
    }
    out, session = codex_body(body, "gpt-5-codex")
    assert (
        out["model"] == "gpt-5-codex" and out["stream"] is True and out["store"] is False and out["instructions"] == ""
    )
    assert set(out) <= {"model", "input", "stream", "store", "reasoning", "include", "instructions", "prompt_cache_key"}
    assert out["input"] == [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]
    assert out["include"] == ["other", "reasoning.encrypted_content"] and out["prompt_cache_key"] == session
    assert codex_body({**body, "input": "hi"}, "m")[1] == session  # the same conversation, the same session
    assert codex_body({**body, "input": "another"}, "m")[1] != session


def _sse(kind: str, **data: object) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


def test_collect_takes_the_terminal_response_and_fills_its_output_from_the_items() -> None:
    item = {"type": "message", "id": "m1", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}
    stream = (
        _sse("response.created", response={"id": "r"})
        + _sse("codex.rate_limits", rate_limits={})
        + _sse("response.output_item.done", output_index=0, item=item)
        + _sse("response.completed", response={"id": "r", "object": "response", "status": "completed", "output": []})
    )
    assert json.loads(collect(stream, "codex"))["output"] == [item]
    with pytest.raises(ValueError):
        collect(stream[: stream.index(b"event: response.completed")], "codex")
    failed = _sse("response.failed", response={"error": {"code": "server_error", "message": "boom"}})
    with pytest.raises(UpstreamStatus):
        collect(failed, "codex")


def _request(*messages: Message) -> ChatRequest:
    return ChatRequest(model="m", messages=messages)


def test_x_initiator_is_user_only_for_a_genuine_user_turn() -> None:
    user = Message("user", (TextPart("hi"),))
    assert dict(turn_headers(_request(user), "conversation-panel"))["X-Initiator"] == "user"
    tool_result = Message("user", (ToolResult("c1", (TextPart("sunny"),)),))
    assert (
        dict(turn_headers(_request(user, Message("assistant", (TextPart("ok"),)), tool_result), "conversation-panel"))[
            "X-Initiator"
        ]
        == "agent"
    )
    assert dict(turn_headers(_request(user, Message("assistant", (TextPart("ok"),))), "x"))["X-Initiator"] == "agent"
    image = Message("user", (TextPart("look"), ImagePart("data:image/png;base64,AA==")))
    headers = dict(turn_headers(_request(image), "messages-proxy"))
    assert headers["Copilot-Vision-Request"] == "true" and headers["X-Interaction-Type"] == "messages-proxy"
    assert dict(turn_headers(None, "conversation-panel"))["X-Initiator"] == "user"


def test_copilot_sends_each_model_where_its_list_allows() -> None:
    provider = CopilotProvider(
        ProviderSettings("copilot", "Copilot", "https://api.githubcopilot.com", (), kind="copilot")
    )
    provider.endpoints = {
        "claude": frozenset({"/chat/completions", "/v1/messages"}),
        "gpt-5": frozenset({"/responses"}),
    }
    assert provider.route("anthropic", "claude") == (provider.dialects["anthropic"], True)
    assert provider.route("openai-responses", "claude") == (provider.dialects["anthropic"], False)
    assert provider.route("openai-chat", "gpt-5") == (provider.dialects["openai-responses"], False)
    assert provider.route("ollama", "unlisted") == (provider.primary, False)


def test_codex_models_list_and_exhausted_window_wait() -> None:
    provider = CodexProvider(
        ProviderSettings("codex", "ChatGPT", "https://chatgpt.com/backend-api/codex", (), kind="codex")
    )
    entries = provider.parse_models(
        json.dumps(
            {
                "models": [
                    {
                        "slug": "gpt-5",
                        "visibility": "list",
                        "context_window": 272000,
                        "supported_reasoning_levels": [{"effort": "low"}],
                    },
                    {"slug": "hidden", "visibility": "hide"},
                ]
            }
        ).encode()
    )
    assert [(e.upstream_id, e.context_length, "thinking" in (e.capabilities or ())) for e in entries] == [
        ("gpt-5", 272000, True)
    ]
    body = json.dumps(
        {"error": {"type": "usage_limit_reached", "message": "limit", "resets_in_seconds": 7200}}
    ).encode()
    err = provider.error(429, {}, body, 1000.0, ())
    assert err.code == "usage_limit_reached" or err.error_type == "usage_limit_reached"
    assert err.resets_in == 7200
    headers = {"x-codex-secondary-used-percent": "100", "x-codex-secondary-reset-at": "90000"}
    assert provider.error(429, headers, b'{"error": {"type": "usage_limit_reached"}}', 1000.0, ()).resets_in == 89000
