"""Sizing the context window a request asks of Ollama: rounded to a power of two, capped at the
trained context, never below the Modelfile's, nothing when the default holds it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.formats.anthropic.checks import parse_request
from gateway.formats.ollama.checks import parse_chat, parse_generate
from gateway.formats.ollama.window import (
    ANSWER_ROOM,
    UNSTATED_ANSWER,
    ModelWindow,
    asked_window,
    configured_window,
    model_window,
    needed,
    window,
    with_window,
)

HELLO = [{"role": "user", "content": "hi"}]


def show(**model_info: Any) -> bytes:
    return json.dumps(
        {"parameters": 'stop "<|eot_id|>"\nnum_ctx                        8192', "model_info": model_info}
    ).encode()


def test_the_models_window_from_its_show_document() -> None:
    assert model_window(show(**{"general.architecture": "qwen3", "qwen3.context_length": 40960})) == ModelWindow(
        40960, 8192
    )
    assert model_window(b'{"model_info": {"general.architecture": "llama"}}') == ModelWindow()
    with pytest.raises(ValueError):
        model_window(b"[]")


@pytest.mark.parametrize(
    ("need", "model", "size"),
    [
        (4096, ModelWindow(), None),  # the default holds it
        (4097, ModelWindow(), 8192),
        (28_195, ModelWindow(131072), 32768),
        (48_000, ModelWindow(40960), 40960),  # not 65536: the most the model was trained for
        (6000, ModelWindow(preset=8192), None),  # the Modelfile's own window holds it
        (9000, ModelWindow(preset=8192), 16384),
    ],
)
def test_the_window_for_a_need(need: int, model: ModelWindow, size: int | None) -> None:
    assert window(need, model) == size


def test_room_for_the_answer() -> None:
    assert needed(20_000, 32_000) == 20_000 + ANSWER_ROOM
    assert needed(20_000, 300) == 20_300
    assert needed(20_000, None) == 20_000 + UNSTATED_ANSWER


def test_the_clients_own_window_is_read_from_ollama_calls_only() -> None:
    assert asked_window(parse_chat({"model": "m", "messages": HELLO, "options": {"num_ctx": 12288}})) == 12288
    assert asked_window(parse_generate({"model": "m", "prompt": "hi", "options": {"num_ctx": 2048}})) == 2048
    assert asked_window(parse_chat({"model": "m", "messages": HELLO})) is None
    assert asked_window(parse_request({"model": "m", "max_tokens": 5, "messages": HELLO})) is None


@pytest.mark.parametrize(
    ("model", "size"),
    [("llama3.2:latest", 32768), ("qwen3:8b", 16384), ("qwen3:14b", None), ("hf.co/org/m:Q4_K_M", 4096)],
)
def test_the_configs_window_names_models_with_or_without_their_tag(model: str, size: int | None) -> None:
    table = (("llama3.2", 32768), ("qwen3:8b", 16384), ("hf.co/org/m:Q4_K_M", 4096))
    assert configured_window(table, model) == size


def test_a_window_the_client_set_is_kept() -> None:
    body = {"model": "m", "options": {"temperature": 0}}
    assert with_window(body, 8192) == {"model": "m", "options": {"temperature": 0, "num_ctx": 8192}}
    assert body == {"model": "m", "options": {"temperature": 0}}
    own = {"model": "m", "options": {"num_ctx": 2048}}
    assert with_window(own, 8192) is own
