from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest

from gateway.formats.common.jsonbody import BodyError
from gateway.formats.openai import embeddings as openai_embeddings


def test_float_vectors_are_re_encoded_when_base64_was_asked() -> None:
    call = openai_embeddings.parse_request({"model": "p/m", "input": "x", "encoding_format": "base64"})
    body, usage = openai_embeddings.finish_response(
        call, json.dumps({"data": [{"embedding": [0.5, -1.0]}], "usage": {"prompt_tokens": 2}}).encode()
    )
    packed = json.loads(body)["data"][0]["embedding"]
    assert struct.unpack("<2f", base64.b64decode(packed)) == (0.5, -1.0)
    assert usage is not None and usage.prompt_tokens == 2


def test_base64_answers_are_left_alone() -> None:
    call = openai_embeddings.parse_request({"model": "p/m", "input": ["a"], "encoding_format": "base64"})
    raw = b'{"data":[{"embedding":"AAAAPw=="}]}'
    assert openai_embeddings.finish_response(call, raw)[0] == raw


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "p/m"}, "input"),
        ({"model": "p/m", "input": 5}, "input"),
        ({"model": "p/m", "input": []}, "input"),
        ({"model": "p/m", "input": [[1, -2]]}, "input[0][1]"),
        ({"model": "p/m", "input": "x", "encoding_format": "hex"}, "encoding_format"),
        ({"model": "p/m", "input": ["x"] * 3000}, "input"),
    ],
)
def test_invalid_embedding_requests(body: dict[str, Any], param: str) -> None:
    with pytest.raises(BodyError) as caught:
        openai_embeddings.parse_request(body)
    assert caught.value.param == param
