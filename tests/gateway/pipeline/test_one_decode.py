"""A request is parsed once (DESIGN.md): a translated request's canonical form is decoded once,
however many routes it tries — the first route failing here, the second answering."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from conftest import StartGateway
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script

from gateway.core.chat import ChatRequest
from gateway.formats.anthropic import codec

KEYS = ("sk-first-key-000000001", "sk-second-key-00000002")
DOWN = b'{"error": {"message": "down", "type": "server_error"}}'


@pytest.mark.parametrize("stream", [False, True])
async def test_a_translated_request_is_decoded_once_on_two_routes(
    start_gateway: StartGateway, upstream: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    decoded: list[dict[str, Any]] = []
    decode = codec.decode_request

    def counted(body: dict[str, Any]) -> ChatRequest:
        decoded.append(body)
        return decode(body)

    monkeypatch.setattr(codec, "decode_request", counted)
    upstream.accept(*KEYS)
    config = (
        f'[providers.pool]\nkind = "openai-compatible"\nbase_url = "{upstream.url}"\napi_key_env = "POOL_KEY"\n'
        'rotation = "sequential"\n'
    )
    gateway = await start_gateway(config, {"POOL_KEY": ",".join(KEYS)})
    upstream.then(Script("status", status=503, body=DOWN))  # the first route fails; the next answers
    messages = {"model": "pool/gpt-test", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{gateway.url}/v1/messages",
            json={**messages, "stream": stream},
            headers={"anthropic-version": "2023-06-01"},
        ) as r,
    ):
        assert r.status == 200
        await r.read()
        assert r.headers["x-switchboard-attempts"] == "2"
    await gateway.gateway.counted()
    assert len(upstream.chat_requests) == 2  # both routes were sent the translated request
    assert len(decoded) == 1
