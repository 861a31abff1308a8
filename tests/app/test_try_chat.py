"""The app's test chat over a transport that answers as the gateway would: the streamed pieces,
the route and usage it reports, and each failure in plain words; and a tool's test request, which
goes the same way (the same address and words) in the tool's own protocol."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest

from app.gateway_host import NotServing
from app.tasks import Tasks
from app.tool_check import check
from app.try_chat import NOT_RUNNING, Tried, TryFailed, own_address, try_model, try_through
from app.viewmodels.tool_check import probe

URL = "http://127.0.0.1:11488"
Handler = Callable[[httpx.Request], httpx.Response]


def sse(*events: object) -> bytes:
    return b"".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events)


def chunk(text: str | None = None, usage: dict[str, int] | None = None) -> dict[str, object]:
    choices = [] if text is None else [{"index": 0, "delta": {"content": text}}]
    return {"model": "gpt-4o-2024", "choices": choices, **({"usage": usage} if usage else {})}


async def run(handler: Handler, model: str = "gpt-4o", key: str | None = None) -> tuple[Tried, list[str]]:
    pieces: list[str] = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        return await try_model(client, URL, model, "Say hi", pieces.append, key), pieces


async def failure(handler: Handler, model: str = "gpt-4o") -> str:
    with pytest.raises(TryFailed) as caught:
        await run(handler, model)
    return caught.value.message


async def test_the_answer_streams_in_and_the_route_and_tokens_come_back() -> None:
    asked: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        body = sse(chunk("Hel"), chunk("lo"), chunk(usage={"prompt_tokens": 9, "completion_tokens": 2}), "[DONE]")
        headers = {"content-type": "text/event-stream", "x-switchboard-route": "openai/gpt-4o-2024; key=env"}
        return httpx.Response(200, content=body, headers=headers)

    tried, pieces = await run(gateway, key="sb-app-secret")
    assert pieces == ["Hel", "lo"]
    assert tried.text == "Hello" and (tried.input_tokens, tried.output_tokens) == (9, 2)
    assert (tried.model_asked, tried.model_answered) == ("gpt-4o", "gpt-4o-2024")
    assert tried.route == "openai/gpt-4o-2024; key=env" and tried.seconds >= 0
    sent = json.loads(asked[0].content)
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == [{"role": "user", "content": "Say hi"}]
    assert asked[0].url.path == "/v1/chat/completions" and asked[0].headers["authorization"] == "Bearer sb-app-secret"


async def test_an_unknown_model_is_named_in_words() -> None:
    body = {"error": {"message": "The model 'nope' does not exist. GET /v1/models …", "code": "model_not_found"}}
    said = await failure(lambda _: httpx.Response(404, json=body), model="nope")
    assert said == "No model called 'nope': pick one from the list."


async def test_the_upstreams_own_message_is_passed_on() -> None:
    body = {"error": {"message": "openai: You exceeded your current quota.", "code": "insufficient_quota"}}
    assert await failure(lambda _: httpx.Response(429, json=body)) == "openai: You exceeded your current quota."


async def test_an_error_partway_through_the_stream_is_the_failure() -> None:
    body = sse(chunk("Hel"), {"error": {"message": "openai: the connection was reset"}}, "[DONE]")
    said = await failure(lambda _: httpx.Response(200, content=body))
    assert said == "openai: the connection was reset"


async def test_a_stream_that_stops_short_is_no_answer() -> None:
    assert await failure(lambda _: httpx.Response(200, content=sse(chunk("Hel")))) == (
        "The answer stopped before it was complete."
    )


async def test_a_gateway_that_is_not_listening_is_not_running() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    assert await failure(refused) == NOT_RUNNING


async def test_an_answer_that_is_no_json_says_so_without_its_text() -> None:
    said = await failure(lambda _: httpx.Response(502, content=b"<html>Bad gateway</html>"))
    assert "code 502" in said and "<html>" not in said


def test_a_gateway_on_every_interface_is_called_over_loopback() -> None:
    assert own_address("http://0.0.0.0:11488") == "http://127.0.0.1:11488"
    assert own_address("http://[::]:11488/") == "http://[::1]:11488"
    assert own_address("http://192.168.1.5:11488") == "http://192.168.1.5:11488"


class AskedTasks:
    """Tasks as ``try_through`` uses them: the gateway's answer to one question (or its absence)."""

    def __init__(self, key: str | None, serving: bool = True) -> None:
        self.key, self.serving = key, serving

    async def ask(self, work: Callable[[Any], Any]) -> Any:
        if not self.serving:
            raise NotServing("the gateway is not running")
        return self.key


async def test_the_windows_send_with_the_gateways_own_key_and_say_when_it_is_not_running() -> None:
    asked: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, content=sse(chunk("Hi"), "[DONE]"))

    mock = httpx.MockTransport(gateway)
    tried = await try_through(cast(Tasks, AskedTasks("sb-app")), URL, "m", "Say hi", lambda _: None, mock)
    assert tried.text == "Hi" and asked[0].headers["authorization"] == "Bearer sb-app"
    with pytest.raises(TryFailed) as caught:
        await try_through(cast(Tasks, AskedTasks(None, serving=False)), URL, "m", "Say hi", lambda _: None, mock)
    assert caught.value.message == NOT_RUNNING and len(asked) == 1


async def test_a_tools_test_request_goes_as_the_test_chat_goes() -> None:
    asked: list[httpx.Request] = []

    def ollama(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, json={"message": {"role": "assistant", "content": " Working. "}})

    ok, said = await check("http://0.0.0.0:11488", "vscode", probe("vscode", "m", None), httpx.MockTransport(ollama))
    assert ok and said == "It works. The model answered: “Working.”"
    assert str(asked[0].url) == "http://127.0.0.1:11488/api/chat" and "authorization" not in asked[0].headers

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    assert await check(URL, "codex", probe("codex", "m", "k"), httpx.MockTransport(refused)) == (False, NOT_RUNNING)
    answer = httpx.MockTransport(lambda _: httpx.Response(500, json={"error": "model 'm' not found"}))
    assert await check(URL, "vscode", probe("vscode", "m", None), answer) == (
        False,
        "Switchboard refused the test request: model 'm' not found",
    )
