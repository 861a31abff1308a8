"""What a provider's server turns out not to speak: learned from a missing endpoint, never its
last protocol, forgotten after the time to live, and restored only for the same address."""

from __future__ import annotations

import logging

import pytest
from fakes.clock import FakeClock

from gateway.core.protocols import ProtocolId
from gateway.errors import GatewayError, UpstreamTimeout
from gateway.providers.ollama import OllamaProvider
from gateway.providers.openai_compatible import OpenAICompatible
from gateway.providers.settings import ProviderSettings
from gateway.providers.upstream_errors import upstream_error
from gateway.routing.spoken import Spoken, Unspoken

ADDRESS = "http://127.0.0.1:8080/v1"
TTL = 3600.0
NOT_FOUND = upstream_error("local", 404, {"Content-Type": "application/json"}, b'{"detail":"Not Found"}', 0.0, ())
NO_MODEL = upstream_error(
    "local",
    404,
    {},
    b'{"error":{"message":"The model `m` does not exist","type":"invalid_request_error","code":"model_not_found"}}',
    0.0,
    (),
)


def provider(*protocols: str, base_url: str = ADDRESS) -> OpenAICompatible:
    return OpenAICompatible(ProviderSettings("local", "Local", base_url, (), protocols=protocols, local=True))


def routed(spoken: Spoken, chosen: OpenAICompatible | OllamaProvider, protocol: ProtocolId) -> tuple[str, bool]:
    dialect, own = spoken.route(chosen, protocol, "m")
    return dialect.protocol, own


def test_a_missing_endpoint_sends_that_protocol_to_the_next_one_spoken(caplog: pytest.LogCaptureFixture) -> None:
    kept: list[Unspoken] = []
    clock = FakeClock()
    spoken, local = Spoken(clock, TTL, kept.append), provider("openai-chat", "openai-responses")
    assert routed(spoken, local, "openai-responses") == ("openai-responses", True)
    with caplog.at_level(logging.INFO, "gateway.routing"):
        assert spoken.learn(local, local.dialects["openai-responses"], NOT_FOUND)
        assert spoken.learn(local, local.dialects["openai-responses"], NOT_FOUND)  # another request, meanwhile
    assert routed(spoken, local, "openai-responses") == ("openai-chat", False)
    assert routed(spoken, local, "openai-chat") == ("openai-chat", True)
    assert kept == [Unspoken("local", "openai-responses", ADDRESS, clock.now)]
    assert [r.getMessage() for r in caplog.records] == [
        f"local: the server at {ADDRESS} has no openai-responses endpoint (HTTP 404); "
        "its openai-responses calls are translated from now on"
    ]


def test_a_missing_primary_sends_translated_calls_to_the_next_protocol() -> None:
    spoken, local = Spoken(FakeClock(), TTL), provider("openai-responses", "openai-chat")
    assert routed(spoken, local, "anthropic") == ("openai-responses", False)
    assert spoken.learn(local, local.primary, NOT_FOUND)
    assert routed(spoken, local, "anthropic") == ("openai-chat", False)


@pytest.mark.parametrize("err", [NO_MODEL, UpstreamTimeout("slow", provider="local")])
def test_other_failures_teach_nothing(err: GatewayError) -> None:
    spoken, local = Spoken(FakeClock(), TTL), provider("openai-chat", "openai-responses")
    assert not spoken.learn(local, local.dialects["openai-responses"], err)
    assert routed(spoken, local, "openai-responses") == ("openai-responses", True)


def test_the_last_protocol_is_never_given_up() -> None:
    spoken, local = Spoken(FakeClock(), TTL), provider("openai-chat", "openai-responses")
    assert spoken.learn(local, local.dialects["openai-chat"], NOT_FOUND)
    assert not spoken.learn(local, local.dialects["openai-responses"], NOT_FOUND)
    assert routed(spoken, local, "openai-responses") == ("openai-responses", True)
    chat_only = provider("openai-chat")
    assert not Spoken(FakeClock(), TTL).learn(chat_only, chat_only.primary, NOT_FOUND)


async def test_what_was_learned_lapses_after_its_time_to_live() -> None:
    clock = FakeClock()
    spoken, local = Spoken(clock, TTL), provider("openai-chat", "openai-responses")
    spoken.learn(local, local.dialects["openai-responses"], NOT_FOUND)
    await clock.advance(TTL + 1)
    assert routed(spoken, local, "openai-responses") == ("openai-responses", True)  # asked again: it may have it now


def test_restored_only_while_fresh_and_for_the_same_address() -> None:
    clock = FakeClock()
    same, moved = (
        provider("openai-chat", "openai-responses"),
        provider("openai-chat", "openai-responses", base_url="http://10.0.0.5:8000/v1"),
    )
    kept = [
        Unspoken("local", "openai-responses", ADDRESS, clock.now - 60),
        Unspoken("local", "openai-chat", ADDRESS, clock.now - TTL - 1),
    ]
    spoken = Spoken(clock, TTL)
    spoken.restore(kept, [same])
    assert routed(spoken, same, "openai-responses") == ("openai-chat", False)
    assert routed(spoken, same, "openai-chat") == ("openai-chat", True)
    elsewhere = Spoken(clock, TTL)
    elsewhere.restore(kept, [moved])
    assert routed(elsewhere, moved, "openai-responses") == ("openai-responses", True)


def test_protocols_since_taken_out_of_the_config_leave_the_rest_as_configured() -> None:
    clock = FakeClock()
    spoken, only = Spoken(clock, TTL), provider("openai-responses")
    spoken.restore([Unspoken("local", "openai-responses", ADDRESS, clock.now)], [only])
    assert routed(spoken, only, "openai-responses") == ("openai-responses", True)
