"""Body members that would steer the upstream call (``api_base``, ``base_url``, ``api_key``,
``extra_headers``, ``user_config``, ``url``, ``endpoint``) never reach an upstream (issue 20 item
5; SECURITY.md S23, B13, I10): on every route, for an upstream of every protocol — the passthrough,
which otherwise keeps the client's bytes, and each translation. The same names nested inside the
request (an image's ``url``) are the request's own and go through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conftest import ANTHROPIC_KEY, FAKE_KEY, StartGateway, provider_table
from fakes.anthropic_upstream import FakeAnthropic
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI
from fakes.sink import Sink
from fakes.upstream import FakeUpstream, Recorded

from gateway import GatewayServer
from gateway.formats.common.jsonbody import STEERING

CHAT_MODELS = ("chat/gpt-test", "resp/gpt-test", "claude/claude-test", "local/llama3.2:latest")
EMBEDDING_MODELS = ("chat/text-embed-test", "local/nomic-embed-text:latest")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
IMAGE = f"data:image/png;base64,{PNG}"
ASK = [{"role": "user", "content": "Say hello"}]
# (path, body without model) for every client protocol; each holds an image where it can, whose
# nested "url" must survive.
SURFACES: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "chat": (
        "/v1/chat/completions",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": {"url": IMAGE}},
                    ],
                }
            ]
        },
        CHAT_MODELS,
    ),
    "responses": (
        "/v1/responses",
        {
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "What is this?"},
                        {"type": "input_image", "image_url": IMAGE},
                    ],
                }
            ]
        },
        CHAT_MODELS,
    ),
    "messages": (
        "/v1/messages",
        {
            "max_tokens": 50,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                    ],
                }
            ],
        },
        CHAT_MODELS,
    ),
    "ollama-chat": (
        "/api/chat",
        {"messages": [{"role": "user", "content": "What is this?", "images": [PNG]}]},
        CHAT_MODELS,
    ),
    "ollama-generate": ("/api/generate", {"prompt": "Say hello"}, CHAT_MODELS),
    "embeddings": ("/v1/embeddings", {"input": "hello"}, EMBEDDING_MODELS),
    "ollama-embed": ("/api/embed", {"input": "hello"}, EMBEDDING_MODELS),
}
CASES = [
    (name, model, stream)
    for name, (_, _, models) in SURFACES.items()
    for model in models
    for stream in (False, True)
    if stream is False or "embed" not in name
]


def steering(sink: Sink) -> dict[str, Any]:
    """Each member as a client would send it to steer a proxy such as LiteLLM's."""
    return {
        "api_base": sink.url,
        "base_url": f"{sink.url}/v1",
        "url": sink.url,
        "endpoint": f"{sink.url}/v1/chat/completions",
        "api_key": "sk-attacker-chosen-key",
        "extra_headers": {"Authorization": "Bearer sk-attacker-chosen-key"},
        "user_config": {"model_list": [{"model_name": "x", "litellm_params": {"api_base": sink.url}}]},
    }


@pytest.fixture
async def local() -> AsyncIterator[FakeOllama]:
    fake = await FakeOllama().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def gateway(
    start_gateway: StartGateway, upstream: FakeOpenAI, anthropic_upstream: FakeAnthropic, local: FakeOllama
) -> GatewayServer:
    return await start_gateway(
        provider_table("chat", upstream)
        + provider_table("resp", upstream, extra='protocols = ["openai-responses"]')
        + provider_table("claude", anthropic_upstream)
        + provider_table("local", local, extra="local = true"),
        {"CHAT_KEY": FAKE_KEY, "RESP_KEY": FAKE_KEY, "CLAUDE_KEY": ANTHROPIC_KEY},
    )


def calls_since(fakes: list[FakeUpstream], seen: list[int]) -> list[Recorded]:
    """The model requests the fakes received since they had ``seen`` requests each."""
    new = [r for fake, n in zip(fakes, seen, strict=True) for r in fake.requests[n:]]
    return [r for r in new if r.method == "POST" and not r.path.endswith("/api/show")]


@pytest.mark.parametrize(
    ("surface", "model", "stream"),
    CASES,
    ids=[f"{s}-{m.split('/')[0]}-{'stream' if st else 'whole'}" for s, m, st in CASES],
)
async def test_steering_members_never_reach_the_upstream(
    gateway: GatewayServer,
    upstream: FakeOpenAI,
    anthropic_upstream: FakeAnthropic,
    local: FakeOllama,
    sink: Sink,
    surface: str,
    model: str,
    stream: bool,
) -> None:
    path, body, _ = SURFACES[surface]
    fakes: list[FakeUpstream] = [upstream, anthropic_upstream, local]
    seen = [len(f.requests) for f in fakes]
    sent = {**body, "model": model, **steering(sink), **({"stream": stream} if "embed" not in surface else {})}
    async with aiohttp.ClientSession() as session, session.post(gateway.url + path, json=sent) as reply:
        answer = await reply.read()
    assert reply.status == 200, answer
    calls = calls_since(fakes, seen)
    assert calls, "the request reached no upstream"
    for call in calls:
        assert STEERING.isdisjoint(call.json), call.json.keys()
        assert sink.url.encode() not in call.body and b"attacker" not in call.body
        assert "attacker" not in str(call.headers)
        if surface != "ollama-generate" and "embed" not in surface:
            assert PNG.encode() in call.body  # the image's own url (or data) went through
    assert sink.connections == 0
