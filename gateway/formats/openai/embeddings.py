"""OpenAI embeddings: request checks and the base64 the official SDK asks for by default.

The Python SDK sends ``encoding_format: "base64"`` unless told otherwise and decodes it itself.
A server that ignores the parameter answers with float arrays; those are re-encoded here so the
client gets what it asked for (protocols.md §1.7).
"""

from __future__ import annotations

import base64
import re
import struct
from dataclasses import dataclass
from typing import Any

from gateway.core.usage import Usage
from gateway.formats.common import jsonbody
from gateway.formats.common.fields import (
    Validator,
    array,
    check_fields,
    either,
    integer,
    model_name,
    one_of,
    required,
    string,
)

MAX_INPUTS = 2048
_TOKEN = integer(0, 2**31 - 1)
_INPUT = either(
    "a string, an array of strings, an array of tokens or an array of token arrays",
    string(8_000_000),
    array(string(8_000_000), min_items=1, max_items=MAX_INPUTS),
    array(_TOKEN, min_items=1, max_items=1_000_000),
    array(array(_TOKEN, min_items=1, max_items=1_000_000), min_items=1, max_items=MAX_INPUTS),
)
EMBEDDING_FIELDS: dict[str, Validator] = {
    "encoding_format": one_of("float", "base64"),
    "dimensions": integer(1, 65_536),
    "user": string(512),
}


@dataclass(frozen=True, slots=True)
class EmbeddingCall:
    model: str
    wants_base64: bool
    body: dict[str, Any]
    source: jsonbody.Body | None = None  # the client's bytes, kept for the passthrough


def parse_request(body: dict[str, Any], source: jsonbody.Body | None = None) -> EmbeddingCall:
    model = required(body, "model", model_name)
    required(body, "input", _INPUT)
    check_fields(body, EMBEDDING_FIELDS)
    return EmbeddingCall(model, body.get("encoding_format") == "base64", body, source)


def upstream_body(call: EmbeddingCall, upstream_model: str) -> bytes:
    return jsonbody.with_model(call.source, call.body, upstream_model)


_FLOAT_ARRAY = re.compile(rb'"embedding"\s*:\s*\[')


def _pack(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def finish_response(call: EmbeddingCall, body: bytes) -> tuple[bytes, Usage | None]:
    """Check the upstream answer, re-encode float vectors when base64 was asked, read usage.

    Raises ValueError when the body is not a JSON object.
    """
    parsed = jsonbody.loads(body)
    if not isinstance(parsed, dict):
        raise ValueError("not a JSON object")
    raw_usage = parsed.get("usage")
    usage = None
    if isinstance(raw_usage, dict) and isinstance(raw_usage.get("prompt_tokens"), int):
        usage = Usage(prompt_tokens=max(0, raw_usage["prompt_tokens"]), completion_tokens=0)
    if call.wants_base64 and _FLOAT_ARRAY.search(body):
        for item in parsed.get("data") or ():
            if isinstance(item, dict) and isinstance(item.get("embedding"), list):
                item["embedding"] = _pack(item["embedding"])
        body = jsonbody.encode(parsed)
    return body, usage
