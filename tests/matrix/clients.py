"""Client drivers: each turns an ``Ask`` into a real SDK call against the gateway and the SDK's
answer into an ``Answer``, checking on the way the things a client of that protocol relies on
(event order, one block per tool call, usage present)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import anthropic
import ollama
import openai

from matrix import PAST_CALLS, PAST_RESULTS, PNG, TIME_TOOL, WEATHER_TOOL, Answer, Ask, Refused


class Client:
    name: ClassVar[str]
    #: Whether the protocol can say how many prompt tokens were cached / reasoning tokens spent.
    sees_cached: ClassVar[bool] = True
    sees_reasoning_tokens: ClassVar[bool] = True
    #: Whether the protocol names tool calls by id, and whether the SDK shows response headers.
    has_tool_ids: ClassVar[bool] = True
    sees_headers: ClassVar[bool] = True

    def __init__(self, gateway_url: str) -> None:
        self.url = gateway_url

    async def ask(self, q: Ask) -> Answer:
        raise NotImplementedError


# --- OpenAI Chat Completions ---------------------------------------------------------------------

_CHAT_STOP = {"stop": "end", "tool_calls": "tool", "length": "length"}


class OpenAIChatClient(Client):
    name = "openai-chat"

    def _messages(self, q: Ask) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = [{"role": "system", "content": q.system}] if q.system else []
        for n, (role, text) in enumerate(q.turns):
            content: Any = text
            if q.image and n == 0:
                content = [
                    {"type": "text", "text": text},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ]
            messages.append({"role": role, "content": content})
        if q.tool_round:
            calls = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
                for i, n, a in PAST_CALLS
            ]
            messages.append({"role": "assistant", "content": None, "tool_calls": calls})
            messages += [{"role": "tool", "tool_call_id": i, "content": text} for i, text in PAST_RESULTS]
        return messages

    def _params(self, q: Ask) -> dict[str, Any]:
        params: dict[str, Any] = {"model": q.model, "messages": self._messages(q)}
        if q.tools:
            params["tools"] = [{"type": "function", "function": t} for t in (WEATHER_TOOL, TIME_TOOL)]
        if q.reasoning:
            params["reasoning_effort"] = "medium"
        if q.max_tokens is not None:
            params["max_tokens"] = q.max_tokens
        return params

    async def ask(self, q: Ask) -> Answer:
        sdk = openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key="client-key", max_retries=0)
        try:
            if not q.stream:
                return _chat_answer(await sdk.chat.completions.create(**self._params(q)))
            stream = await sdk.chat.completions.create(
                **self._params(q), stream=True, stream_options={"include_usage": True}
            )
        except openai.APIStatusError as e:
            raise _openai_refusal(e) from e
        try:
            return await _chat_stream_answer(stream)
        except openai.APIError as e:
            raise Refused(e.message, status=None, in_stream=True) from e


def _openai_refusal(e: openai.APIStatusError) -> Refused:
    body = e.body if isinstance(e.body, dict) else {}
    assert set(body) == {"message", "type", "param", "code"}, body  # the SDK unwraps {"error": {...}}
    return Refused(
        body["message"], status=e.status_code, retry_after=e.response.headers.get("retry-after"), kind=body["type"]
    )


def _reasoning_of(message: Any) -> str:
    """Reasoning as OpenAI-compatible servers send it: ``reasoning_content`` (DeepSeek, vLLM,
    llama.cpp) or ``reasoning`` (Ollama, OpenRouter)."""
    extra = message.model_extra or {}
    return str(extra.get("reasoning_content") or extra.get("reasoning") or "")


def _chat_answer(reply: Any) -> Answer:
    message = reply.choices[0].message
    usage = reply.usage
    return Answer(
        text=message.content or "",
        reasoning=_reasoning_of(message),
        tool_calls=[(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or ()],
        stop=_CHAT_STOP[reply.choices[0].finish_reason],
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0,
        reasoning_tokens=usage.completion_tokens_details.reasoning_tokens if usage.completion_tokens_details else 0,
    )


async def _chat_stream_answer(stream: Any) -> Answer:
    answer = Answer()
    calls: dict[int, list[Any]] = {}
    usages = []
    async for chunk in stream:
        if chunk.usage is not None:
            usages.append(chunk.usage)
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        delta = choice.delta
        answer.text += delta.content or ""
        answer.reasoning += _reasoning_of(delta)
        for fragment in delta.tool_calls or ():
            if fragment.id is not None:  # a call's first fragment, and only its first, names it
                assert fragment.index not in calls, f"tool call {fragment.index} announced twice"
                assert fragment.function.name, "tool call without a name"
                calls[fragment.index] = [fragment.id, fragment.function.name, fragment.function.arguments or ""]
            else:
                calls[fragment.index][2] += fragment.function.arguments or ""
        if choice.finish_reason is not None:
            answer.stop = _CHAT_STOP[choice.finish_reason]
    assert len(usages) == 1, f"expected exactly one usage chunk, got {len(usages)}"
    assert sorted(calls) == list(range(len(calls))), "tool call indexes must count from 0"
    answer.tool_calls = [(i, n, json.loads(a)) for i, n, a in (calls[k] for k in sorted(calls))]
    usage = usages[0]
    answer.prompt_tokens, answer.completion_tokens = usage.prompt_tokens, usage.completion_tokens
    answer.cached_tokens = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
    answer.reasoning_tokens = usage.completion_tokens_details.reasoning_tokens if usage.completion_tokens_details else 0
    return answer


# --- OpenAI Responses ----------------------------------------------------------------------------


class OpenAIResponsesClient(Client):
    name = "openai-responses"

    def _params(self, q: Ask) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for n, (role, text) in enumerate(q.turns):
            content: Any = text
            if q.image and n == 0:
                content = [
                    {"type": "input_text", "text": text},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
                ]
            items.append({"role": role, "content": content})
        if q.tool_round:
            items += [
                {"type": "function_call", "call_id": i, "name": n, "arguments": json.dumps(a)} for i, n, a in PAST_CALLS
            ]
            items += [{"type": "function_call_output", "call_id": i, "output": text} for i, text in PAST_RESULTS]
        params: dict[str, Any] = {"model": q.model, "input": items, "store": False}
        if q.system:
            params["instructions"] = q.system
        if q.tools:
            params["tools"] = [{"type": "function", **t} for t in (WEATHER_TOOL, TIME_TOOL)]
        if q.reasoning:
            params["reasoning"] = {"effort": "medium", "summary": "auto"}
        if q.max_tokens is not None:
            params["max_output_tokens"] = q.max_tokens
        return params

    async def ask(self, q: Ask) -> Answer:
        sdk = openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key="client-key", max_retries=0)
        try:
            if not q.stream:
                return _response_answer((await sdk.responses.create(**self._params(q))).model_dump())
            stream = await sdk.responses.create(**self._params(q), stream=True)
        except openai.APIStatusError as e:
            raise _openai_refusal(e) from e
        try:
            return await _response_stream_answer(stream)
        except openai.APIError as e:
            raise Refused(e.message, status=None, in_stream=True) from e


def _response_answer(response: dict[str, Any]) -> Answer:
    answer = Answer()
    for item in response["output"]:
        if item["type"] == "message":
            answer.text += "".join(p["text"] for p in item["content"] if p["type"] == "output_text")
        elif item["type"] == "reasoning":
            answer.reasoning += "".join(s["text"] for s in item["summary"])
        elif item["type"] == "function_call":
            answer.tool_calls.append((item["call_id"], item["name"], json.loads(item["arguments"])))
    answer.stop = "tool" if answer.tool_calls else "length" if response["status"] == "incomplete" else "end"
    usage = response["usage"]
    answer.prompt_tokens, answer.completion_tokens = usage["input_tokens"], usage["output_tokens"]
    answer.cached_tokens = usage["input_tokens_details"]["cached_tokens"]
    answer.reasoning_tokens = usage["output_tokens_details"]["reasoning_tokens"]
    return answer


async def _response_stream_answer(stream: Any) -> Answer:
    """Read the raw events, holding them to protocols.md §2.4: increasing sequence numbers, items
    added and done one at a time, deltas that add up to what the done events say."""
    events = [e.model_dump() async for e in stream]
    assert [e["sequence_number"] for e in events] == list(
        range(events[0]["sequence_number"], events[0]["sequence_number"] + len(events))
    )
    assert [e["type"] for e in events[:2]] == ["response.created", "response.in_progress"], [e["type"] for e in events]
    last = events[-1]
    if last["type"] == "response.failed":
        raise Refused(last["response"]["error"]["message"], status=None, in_stream=True)
    assert last["type"] in ("response.completed", "response.incomplete"), last["type"]
    open_item, pieces = None, ""
    done_items: list[dict[str, Any]] = []
    for event in events[2:-1]:
        kind = event["type"]
        if kind == "response.output_item.added":
            assert open_item is None and event["output_index"] == len(done_items), "items must come one at a time"
            open_item, pieces = event["item"], ""
        elif kind.endswith(".delta"):
            assert open_item is not None and event["item_id"] == open_item["id"]
            pieces += event["delta"]
        elif kind in ("response.output_text.done", "response.reasoning_summary_text.done"):
            assert event["text"] == pieces
        elif kind == "response.function_call_arguments.done":
            assert event["arguments"] == pieces
        elif kind == "response.output_item.done":
            assert open_item is not None and event["item"]["id"] == open_item["id"]
            done_items.append(event["item"])
            open_item = None
    assert open_item is None, "an item was never done"
    assert last["response"]["output"] == done_items
    return _response_answer(last["response"])


# --- Anthropic Messages --------------------------------------------------------------------------

_MESSAGES_STOP = {"end_turn": "end", "stop_sequence": "end", "tool_use": "tool", "max_tokens": "length"}
_DELTA_FOR = {
    "text": ("text_delta",),
    "thinking": ("thinking_delta", "signature_delta"),
    "tool_use": ("input_json_delta",),
}
_DELTA_TEXT = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}


class AnthropicClient(Client):
    name = "anthropic"
    sees_reasoning_tokens = False  # Messages usage has no reasoning count

    def _params(self, q: Ask) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        for n, (role, text) in enumerate(q.turns):
            content: Any = text
            if q.image and n == 0:
                content = [
                    {"type": "text", "text": text},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                ]
            messages.append({"role": role, "content": content})
        if q.tool_round:
            messages.append(
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in PAST_CALLS],
                }
            )
            messages.append(
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": i, "content": text} for i, text in PAST_RESULTS],
                }
            )
        params: dict[str, Any] = {"model": q.model, "messages": messages, "max_tokens": q.max_tokens or 4096}
        if q.system:
            params["system"] = q.system
        if q.tools:
            params["tools"] = [
                {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
                for t in (WEATHER_TOOL, TIME_TOOL)
            ]
        if q.reasoning:
            params["thinking"] = {"type": "enabled", "budget_tokens": 2048}
        return params

    async def ask(self, q: Ask) -> Answer:
        sdk = anthropic.AsyncAnthropic(base_url=self.url, api_key="client-key", max_retries=0)
        try:
            if not q.stream:
                return _message_answer(await sdk.messages.create(**self._params(q)))
            stream = await sdk.messages.create(**self._params(q), stream=True)
        except anthropic.APIStatusError as e:
            raise _anthropic_refusal(e) from e
        try:
            return await _message_stream_answer(stream)
        except anthropic.APIStatusError as e:
            raise Refused(_anthropic_refusal(e).message, status=None, in_stream=True) from e


def _anthropic_refusal(e: anthropic.APIStatusError) -> Refused:
    body: Any = e.body
    assert isinstance(body, dict) and body.get("type") == "error", body
    return Refused(
        body["error"]["message"],
        status=e.status_code,
        retry_after=e.response.headers.get("retry-after"),
        kind=body["error"]["type"],
    )


def _message_usage(answer: Answer, usage: Any) -> None:
    read = usage.get("cache_read_input_tokens") or 0
    answer.prompt_tokens = usage.get("input_tokens", 0) + read + (usage.get("cache_creation_input_tokens") or 0)
    answer.cached_tokens = read
    answer.completion_tokens = usage.get("output_tokens", 0)


def _message_answer(reply: Any) -> Answer:
    answer = Answer(stop=_MESSAGES_STOP[reply.stop_reason])
    for block in reply.content:
        if block.type == "text":
            answer.text += block.text
        elif block.type == "thinking":
            answer.reasoning += block.thinking
        elif block.type == "tool_use":
            answer.tool_calls.append((block.id, block.name, block.input))
    _message_usage(answer, reply.usage.model_dump())
    return answer


async def _message_stream_answer(stream: Any) -> Answer:
    """Read the raw events, holding them to the order protocols.md §3.4 gives."""
    events = [e async for e in stream if e.type != "ping"]
    assert events[0].type == "message_start" and events[-1].type == "message_stop", [e.type for e in events]
    assert events[-2].type == "message_delta", [e.type for e in events]
    usage = events[0].message.usage.model_dump()
    answer = Answer(stop=_MESSAGES_STOP[events[-2].delta.stop_reason])
    usage |= {k: v for k, v in events[-2].usage.model_dump().items() if v is not None}  # cumulative
    _message_usage(answer, usage)
    blocks, open_block, pieces = 0, None, ""
    for event in events[1:-2]:
        if event.type == "content_block_start":
            assert open_block is None and event.index == blocks, "blocks must open one at a time, in order"
            open_block, pieces = event.content_block, ""
            if open_block.type == "tool_use":
                assert open_block.name and open_block.id, "tool_use block without a name or id"
                assert all(open_block.id != c[0] for c in answer.tool_calls), "tool_use block repeated"
        elif event.type == "content_block_delta":
            assert open_block is not None and event.index == blocks
            assert event.delta.type in _DELTA_FOR[open_block.type], (open_block.type, event.delta.type)
            if event.delta.type in _DELTA_TEXT:
                pieces += getattr(event.delta, _DELTA_TEXT[event.delta.type])
        else:
            assert event.type == "content_block_stop" and open_block is not None and event.index == blocks, event
            if open_block.type == "text":
                assert pieces, "empty text block"
                answer.text += pieces
            elif open_block.type == "thinking":
                answer.reasoning += pieces
            elif open_block.type == "tool_use":
                answer.tool_calls.append((open_block.id, open_block.name, json.loads(pieces or "{}")))
            open_block, blocks = None, blocks + 1
    assert open_block is None, "a block was never closed"
    return answer


# --- Ollama ---------------------------------------------------------------------------------------


class OllamaClient(Client):
    name = "ollama"
    sees_cached = sees_reasoning_tokens = False  # only prompt_eval_count and eval_count
    has_tool_ids = False  # the SDK's tool calls carry no id; results name the tool
    sees_headers = False  # ResponseError keeps the status and the message only

    def _params(self, q: Ask) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [{"role": "system", "content": q.system}] if q.system else []
        for n, (role, text) in enumerate(q.turns):
            messages.append({"role": role, "content": text, **({"images": [PNG]} if q.image and n == 0 else {})})
        if q.tool_round:
            messages.append(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"function": {"name": n, "arguments": a}} for _, n, a in PAST_CALLS],
                }
            )
            names = {i: n for i, n, _ in PAST_CALLS}
            messages += [{"role": "tool", "content": text, "tool_name": names[i]} for i, text in PAST_RESULTS]
        params: dict[str, Any] = {"model": q.model, "messages": messages, "stream": q.stream}
        if q.tools:
            params["tools"] = [{"type": "function", "function": t} for t in (WEATHER_TOOL, TIME_TOOL)]
        if q.reasoning:
            params["think"] = True
        if q.max_tokens is not None:
            params["options"] = {"num_predict": q.max_tokens}
        return params

    async def ask(self, q: Ask) -> Answer:
        sdk = ollama.AsyncClient(host=self.url)
        try:
            if not q.stream:
                return _ollama_answer([await sdk.chat(**self._params(q))])
            stream = await sdk.chat(**self._params(q))
        except ollama.ResponseError as e:
            raise Refused(e.error, status=e.status_code) from e
        chunks = []
        try:
            async for chunk in stream:
                chunks.append(chunk)
        except ollama.ResponseError as e:  # the SDK opens the stream lazily: an HTTP error comes here too
            in_stream = e.status_code == -1
            raise Refused(e.error, status=None if in_stream else e.status_code, in_stream=in_stream) from e
        assert all(not c.done for c in chunks[:-1]) and chunks[-1].done, "only the last line may be done"
        return _ollama_answer(chunks)


def _ollama_answer(chunks: list[Any]) -> Answer:
    answer = Answer()
    for chunk in chunks:
        message = chunk.message
        answer.text += message.content or ""
        answer.reasoning += message.thinking or ""
        for call in message.tool_calls or ():
            answer.tool_calls.append(("", call.function.name, dict(call.function.arguments)))
    last = chunks[-1]
    answer.stop = "tool" if answer.tool_calls else "length" if last.done_reason == "length" else "end"
    answer.prompt_tokens, answer.completion_tokens = last.prompt_eval_count or 0, last.eval_count or 0
    assert last.total_duration is not None and last.total_duration >= 0
    return answer
