"""The app's own test chat: one message sent through the gateway's HTTP address exactly as a tool
sends it (OpenAI Chat Completions, streamed, usage asked for), so an answer proves the whole path:
listening socket, guard, caller, routing, upstream, translation and accounting.

It runs with httpx in a coroutine on the Qt thread's loop (qasync's), as app/update_http.py does;
tests hand the client a transport. Whatever goes wrong is raised as ``TryFailed`` with a sentence a
person understands, never exception text.

Where the gateway needs client keys (LAN mode, or keys on loopback too), the app sends the gateway's
own key for it (``Control.app_key``): made at random in memory for each start, never stored nor
listed nor audited as a client key, so there is nothing for a person to create, keep or revoke.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from app.gateway_host import NotServing
from app.viewmodels.tool_check import refusal_text

if TYPE_CHECKING:
    from app.tasks import Tasks

ROUTE_HEADER = "x-switchboard-route"  # the gateway's: which provider, model and key answered
TIMEOUT = httpx.Timeout(120.0, connect=5.0)  # a slow model may think a while before its first word
NOT_RUNNING = "The gateway is not running, so there is nothing to send the message through."
BROKE_OFF = "The connection to the gateway broke off before the answer was complete."
Transport = httpx.AsyncBaseTransport | None  # tests hand one; None: httpx's own, to the gateway's address
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}


class TryFailed(Exception):
    """The test message did not get an answer; ``message`` says why in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Tried:
    """What one test message got back. ``route``: the gateway's own account of who answered
    (provider/model; key=label), empty when it gave none."""

    model_asked: str
    model_answered: str
    route: str
    input_tokens: int
    output_tokens: int
    seconds: float
    text: str


def try_client(transport: Transport = None) -> httpx.AsyncClient:
    """A client for test messages: straight to the gateway, whatever proxy the environment names
    (a proxy would see the app's key, and one elsewhere cannot reach this computer's loopback)."""
    return httpx.AsyncClient(transport=transport, trust_env=False, timeout=TIMEOUT)


def own_address(url: str) -> str:
    """The gateway's address as this computer reaches it: a gateway listening on every interface
    (0.0.0.0, ::) is called over loopback."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition(":")[0] if parts.port is not None else parts.netloc
    local = _WILDCARDS.get(host)
    if local is None:
        return url.rstrip("/")
    netloc = f"{local}:{parts.port}" if parts.port is not None else local
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


async def try_through(
    tasks: Tasks, url: str, model: str, prompt: str, on_text: Callable[[str], None], transport: Transport = None
) -> Tried:
    """The test message as the windows send it (the welcome, the Models page): with the gateway's
    own key, asked of it first; a gateway that is not running is said so, the same way."""
    try:
        key = await tasks.ask(lambda control: control.app_key())
    except NotServing:
        raise TryFailed(NOT_RUNNING) from None
    async with try_client(transport) as client:
        return await try_model(client, url, model, prompt, on_text, key)


async def try_model(
    client: httpx.AsyncClient,
    url: str,
    model: str,
    prompt: str,
    on_text: Callable[[str], None],
    key: str | None = None,
) -> Tried:
    """Sends ``prompt`` to ``model`` through the gateway at ``url`` and streams the answer into
    ``on_text`` piece by piece; ``key``: the one to send where the gateway needs client keys."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    started = time.perf_counter()
    answer = _Answer(model, on_text)
    try:
        async with client.stream(
            "POST", f"{own_address(url)}/v1/chat/completions", json=body, headers=headers, timeout=TIMEOUT
        ) as reply:
            if not reply.is_success:
                raise TryFailed(_refusal(reply.status_code, await reply.aread(), model))
            answer.route = reply.headers.get(ROUTE_HEADER, "")
            async for line in reply.aiter_lines():
                if line.startswith("data:") and answer.read(line[5:].strip()):
                    break
    except httpx.ConnectError:
        raise TryFailed(NOT_RUNNING) from None
    except httpx.TimeoutException:
        raise TryFailed(f"{model} took too long to answer, so the test was given up.") from None
    except httpx.HTTPError:
        raise TryFailed(BROKE_OFF) from None
    if not answer.done:
        raise TryFailed("The answer stopped before it was complete.")
    return answer.tried(time.perf_counter() - started)


class _Answer:
    """The stream's pieces as they come: text, the model that answered, usage, and the end."""

    def __init__(self, model: str, on_text: Callable[[str], None]) -> None:
        self.model_asked = self.model_answered = model
        self.route = ""
        self.done = False
        self._on_text = on_text
        self._text: list[str] = []
        self._usage: dict[str, Any] = {}

    def read(self, data: str) -> bool:
        """One event's data; True at the end of the stream."""
        if data == "[DONE]":
            self.done = True
            return True
        try:
            chunk = json.loads(data)
        except ValueError:
            raise TryFailed("The gateway's answer could not be read.") from None
        if not isinstance(chunk, dict):
            return False
        if chunk.get("error"):
            raise TryFailed(refusal_text(chunk) or "The model stopped with an error partway through its answer.")
        if isinstance(answered := chunk.get("model"), str) and answered:
            self.model_answered = answered
        if isinstance(usage := chunk.get("usage"), dict):
            self._usage = usage
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            piece = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(piece, str) and piece:
                self._text.append(piece)
                self._on_text(piece)
        return False

    def tried(self, seconds: float) -> Tried:
        return Tried(
            model_asked=self.model_asked,
            model_answered=self.model_answered,
            route=self.route,
            input_tokens=_count(self._usage.get("prompt_tokens")),
            output_tokens=_count(self._usage.get("completion_tokens")),
            seconds=seconds,
            text="".join(self._text),
        )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _refusal(status: int, body: bytes, model: str) -> str:
    """What a refused request means, in words: the gateway's own where they are meant for people."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    error = document.get("error") if isinstance(document, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    if status == 404 and code == "model_not_found":
        return f"No model called {model!r}: pick one from the list."
    if status == 401:
        return "The gateway did not accept the app's own key. Try again once the gateway has restarted."
    said = refusal_text(document)
    if said:
        return said
    if status >= 500:
        return f"{model} could not answer just now (the gateway answered with an error, code {status})."
    return f"The gateway refused the test message (code {status})."
