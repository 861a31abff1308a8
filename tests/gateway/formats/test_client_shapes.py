"""What today's coding agents send, through the codecs (issue 19): Claude Code's mid-conversation
system messages and effort, Codex's namespace, custom and hosted tools, and the fields thinking
upstreams need. Each shape is the one the real client was seen sending (Claude Code 2.1.332,
Codex 0.171.0); tests/clients runs the clients themselves."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.core.chat import (
    ChatRequest,
    ChatResponse,
    Message,
    Reasoning,
    StreamEnd,
    StreamStart,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
)
from gateway.core.timing import Timing
from gateway.formats.anthropic import checks as anthropic_checks
from gateway.formats.anthropic import codec as anthropic
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.ollama import codec as ollama
from gateway.formats.openai_chat import codec as chat
from gateway.formats.openai_responses import checks as responses_checks
from gateway.formats.openai_responses import codec as responses
from gateway.formats.openai_responses import items
from gateway.formats.openai_responses.stream import StreamEncoder as ResponsesEncoder
from gateway.formats.openai_responses.tools import ToolNames

SCHEMA = {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}


def claude_code_body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "openai/gpt-test",
        "max_tokens": 32000,
        "system": [{"type": "text", "text": "You are an agent."}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "<system-reminder>date</system-reminder>"}]},
            {"role": "system", "content": [{"type": "text", "text": "# Environment\nlinux"}]},
            {"role": "user", "content": "say hi"},
        ],
        "tools": [{"name": "Bash", "description": "Run a command.", "input_schema": SCHEMA}],
        "thinking": {"type": "adaptive", "display": "updates"},
        "output_config": {"effort": "high"},
        "stream": True,
        **extra,
    }


def claude_code_request(**extra: Any) -> ChatRequest:
    return anthropic_checks.parse_request(claude_code_body(**extra)).canonical()


# --- Claude Code: system messages mid-conversation ----------------------------------------------


def test_a_system_message_mid_conversation_is_accepted_and_kept_in_place() -> None:
    request = claude_code_request()
    assert [m.role for m in request.messages] == ["user", "system", "user"]
    assert request.messages[1].parts == (TextPart("# Environment\nlinux"),)
    assert request.system == (TextPart("You are an agent."),)


def test_count_tokens_takes_it_too() -> None:
    body = claude_code_body()
    del body["max_tokens"]
    assert anthropic_checks.parse_request(body, needs_max_tokens=False).canonical().messages[1].role == "system"


def test_each_protocol_writes_it_where_it_was_given() -> None:
    request = claude_code_request()
    chat_roles = [m["role"] for m in chat.encode_request(request, "gpt-test", stream_usage=True)["messages"]]
    assert chat_roles == ["system", "user", "system", "user"]
    items = responses.encode_request(request, "gpt-test")["input"]
    assert [(i.get("role"), i["content"][0]["text"]) for i in items][1] == ("developer", "# Environment\nlinux")
    ollama_messages = ollama.encode_request(request, "llama3")["messages"]
    assert [m["role"] for m in ollama_messages] == ["system", "user", "system", "user"]
    assert ollama_messages[2]["content"] == "# Environment\nlinux"


def test_to_messages_it_becomes_a_reminder_in_the_user_turn_not_lost() -> None:
    wire = anthropic.encode_request(claude_code_request(), "claude-test")["messages"]
    assert [m["role"] for m in wire] == ["user"]  # joined: Messages wants roles to alternate
    texts = [b["text"] for b in wire[0]["content"]]
    assert texts[1] == "<system-reminder>\n# Environment\nlinux\n</system-reminder>"


def test_chat_and_responses_keep_later_system_messages_in_place_too() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "first"},
            {"role": "user", "content": "hi"},
            {"role": "developer", "content": "later"},
            {"role": "user", "content": "again"},
        ],
    }
    request = chat.decode_request(body)
    assert request.system == (TextPart("first"),)
    assert [m.role for m in request.messages] == ["user", "system", "user"]


# --- Claude Code: effort ------------------------------------------------------------------------


@pytest.mark.parametrize(("effort", "expected"), [("low", "low"), ("high", "high"), ("max", "high"), (None, None)])
def test_adaptive_thinking_effort_reaches_the_upstreams_own_control(effort: str | None, expected: str | None) -> None:
    request = claude_code_request(output_config={"effort": effort} if effort else {})
    assert request.reasoning_effort == expected
    assert chat.encode_request(request, "gpt-test", stream_usage=True).get("reasoning_effort") == expected
    reasoning = responses.encode_request(request, "gpt-test").get("reasoning")
    assert (reasoning or {}).get("effort") == expected


def test_thinking_switched_off_asks_for_no_effort() -> None:
    assert claude_code_request(thinking={"type": "disabled"}).reasoning_effort is None


def test_earlier_thinking_goes_back_as_reasoning_content_where_the_server_wants_it() -> None:
    request = ChatRequest(
        model="m",
        messages=(
            Message("user", (TextPart("weather?"),)),
            Message("assistant", (Reasoning("check the tool"), ToolCall("c1", "Bash", "{}"))),
        ),
    )
    wants = chat.encode_request(request, "deepseek-reasoner", stream_usage=True, reasoning_history=True)["messages"][1]
    assert wants["reasoning_content"] == "check the tool"
    plain = chat.encode_request(request, "gpt-4o", stream_usage=True)["messages"][1]
    assert "reasoning_content" not in plain  # OpenAI refuses fields it does not know in a message


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("o3-mini", "max_completion_tokens"),
        ("gpt-5.1", "max_completion_tokens"),
        ("openai/o4-mini", "max_completion_tokens"),
        ("gpt-4.1", "max_tokens"),
        ("llama3", "max_tokens"),
    ],
)
def test_reasoning_models_get_max_completion_tokens(model: str, field: str) -> None:
    body = chat.encode_request(
        ChatRequest(model="x", messages=(Message("user", (TextPart("hi"),)),), max_tokens=99), model, stream_usage=True
    )
    assert body[field] == 99
    assert {"max_tokens", "max_completion_tokens"} - {field} & body.keys() == set()


# --- Codex: namespace, custom and hosted tools ---------------------------------------------------


APPLY_PATCH_GRAMMAR = "start: begin_patch hunk+ end_patch"


def codex_body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "openai/gpt-test",
        "stream": True,
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are Codex."}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "fix it"}]},
        ],
        "tools": [
            {
                "type": "function",
                "name": "exec_command",
                "description": "Run.",
                "strict": False,
                "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]},
            },
            {
                "type": "namespace",
                "name": "multi_agent_v1",
                "description": "Sub-agents.",
                "tools": [
                    {
                        "type": "function",
                        "name": "spawn_agent",
                        "description": "Spawn.",
                        "strict": False,
                        "parameters": {"type": "object", "properties": {"message": {"type": "string"}}},
                    },
                    {
                        "type": "function",
                        "name": "wait_agent",
                        "description": "Wait.",
                        "strict": False,
                        "parameters": {"type": "object", "properties": {"targets": {"type": "array"}}},
                    },
                ],
            },
            {
                "type": "custom",
                "name": "apply_patch",
                "description": "Edit files.",
                "format": {"type": "grammar", "syntax": "lark", "definition": APPLY_PATCH_GRAMMAR},
            },
            {"type": "web_search", "external_web_access": False},
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "reasoning": {"summary": "auto"},
        "store": False,
        "include": ["reasoning.encrypted_content"],
        **extra,
    }


def codex_request(**extra: Any) -> ChatRequest:
    return responses_checks.parse_request(codex_body(**extra)).canonical()


def test_codex_tools_become_functions_and_hosted_ones_are_named_as_dropped() -> None:
    request = codex_request()
    assert [t.name for t in request.tools] == [
        "exec_command",
        "multi_agent_v1__spawn_agent",
        "multi_agent_v1__wait_agent",
        "apply_patch",
    ]
    patch = request.tools[3]
    assert patch.parameters["properties"] == {"input": {"type": "string"}}
    assert APPLY_PATCH_GRAMMAR in patch.description  # the model still learns the input's syntax
    assert request.dropped == ("tools[3] (web_search)",)
    wire = chat.encode_request(request, "gpt-test", stream_usage=True)
    assert [t["function"]["name"] for t in wire["tools"]][1] == "multi_agent_v1__spawn_agent"


def test_a_forced_hosted_tool_is_refused_by_name() -> None:
    with pytest.raises(BodyError, match="web_search"):
        codex_request(tool_choice={"type": "web_search"})


def test_forcing_a_namespaced_or_custom_tool_names_its_function() -> None:
    assert (
        codex_request(tool_choice={"type": "function", "namespace": "multi_agent_v1", "name": "wait_agent"}).tool_choice
        is not None
    )
    choice = codex_request(tool_choice={"type": "custom", "name": "apply_patch"}).tool_choice
    assert choice is not None and choice.name == "apply_patch"


def test_codex_history_with_namespaced_and_custom_calls_reads_back() -> None:
    history = [
        {
            "type": "function_call",
            "call_id": "c1",
            "namespace": "multi_agent_v1",
            "name": "wait_agent",
            "arguments": "{}",
        },
        {"type": "function_call_output", "call_id": "c1", "output": "timed out"},
        {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin Patch"},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": "Done!"},
        {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "x"}},
    ]
    body = codex_body()
    body["input"] += history
    request = responses_checks.parse_request(body).canonical()
    calls = [p for m in request.messages for p in m.parts if isinstance(p, ToolCall)]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("multi_agent_v1__wait_agent", {}),
        ("apply_patch", {"input": "*** Begin Patch"}),
    ]
    assert "input[6] (web_search_call)" in request.dropped


def _answer_calls() -> ChatResponse:
    return ChatResponse(
        "up1",
        "gpt-test",
        (
            ToolCall("c1", "multi_agent_v1__wait_agent", '{"targets":["a"]}'),
            ToolCall("c2", "apply_patch", '{"input":"*** Begin Patch\\n*** End Patch"}'),
            ToolCall("c3", "exec_command", '{"cmd":"ls"}'),
        ),
        "tool_calls",
        None,
    )


def test_answers_name_tools_as_the_client_does() -> None:
    call = responses_checks.parse_request(codex_body(stream=False))
    output = json.loads(call.encode_answer(_answer_calls(), Timing(1, 0.0, lambda: 0.0)))["output"]
    assert output[0] | {"id": ""} == {
        "type": "function_call",
        "id": "",
        "call_id": "c1",
        "namespace": "multi_agent_v1",
        "name": "wait_agent",
        "arguments": '{"targets":["a"]}',
        "status": "completed",
    }
    assert (output[1]["type"], output[1]["name"], output[1]["input"]) == (
        "custom_tool_call",
        "apply_patch",
        "*** Begin Patch\n*** End Patch",
    )
    assert (output[2]["type"], output[2]["name"], "namespace" in output[2]) == ("function_call", "exec_command", False)


def test_streamed_answers_name_tools_as_the_client_does() -> None:
    encoder = ResponsesEncoder("m", 1, items.echoed(codex_body()), ToolNames(codex_body()["tools"]))
    raw = b"".join(
        encoder.feed(e)
        for e in (
            StreamStart("up1", "m"),
            ToolCallStart(0, "c1", "multi_agent_v1__wait_agent"),
            ToolCallDelta(0, '{"targets":'),
            ToolCallDelta(0, '["a"]}'),
            ToolCallStart(1, "c2", "apply_patch"),
            ToolCallDelta(1, '{"input":"*** Begin'),
            ToolCallDelta(1, ' Patch"}'),
            StreamEnd(),
        )
    )
    events = [json.loads(line[6:]) for line in raw.split(b"\n") if line.startswith(b"data: ")]
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert (done[0]["namespace"], done[0]["name"], done[0]["arguments"]) == (
        "multi_agent_v1",
        "wait_agent",
        '{"targets":["a"]}',
    )
    assert (done[1]["type"], done[1]["input"]) == ("custom_tool_call", "*** Begin Patch")
    assert any(e["type"] == "response.custom_tool_call_input.done" and e["input"] == "*** Begin Patch" for e in events)
    assert not any(
        e["type"] == "response.function_call_arguments.delta" and e["item_id"] == done[1]["id"] for e in events
    )


def test_claude_code_server_tools_are_dropped_for_other_protocols() -> None:
    request = claude_code_request(
        tools=[
            {"name": "Bash", "description": "Run.", "input_schema": SCHEMA},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        ]
    )
    assert [t.name for t in request.tools] == ["Bash"]
    assert request.dropped == ("tools.1 (web_search_20250305)",)
    with pytest.raises(BodyError, match="web_search"):
        claude_code_request(
            tools=[{"type": "web_search_20250305", "name": "web_search"}],
            tool_choice={"type": "tool", "name": "web_search"},
        )
