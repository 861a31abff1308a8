"""Ollama's embedding requests served through the gateway's OpenAI-shaped embeddings path."""

from __future__ import annotations

from typing import Any

from gateway.formats.common import jsonbody
from gateway.formats.ollama.checks import EmbedCall
from gateway.formats.openai.embeddings import EmbeddingCall


def as_openai(call: EmbedCall) -> EmbeddingCall:
    body: dict[str, Any] = {"model": call.model, "input": list(call.inputs)}
    if call.dimensions is not None:
        body["dimensions"] = call.dimensions
    return EmbeddingCall(call.model, wants_base64=False, body=body)


def answer(call: EmbedCall, openai_body: bytes, total_ns: int) -> bytes:
    """The OpenAI answer in Ollama's shape. Raises ValueError when it holds no vectors."""
    parsed = jsonbody.as_object(jsonbody.loads(openai_body))
    data = sorted((d for d in parsed.get("data") or () if isinstance(d, dict)), key=lambda d: d.get("index", 0))
    vectors = [d.get("embedding") for d in data]
    if len(vectors) != len(call.inputs) or not all(isinstance(v, list) for v in vectors):
        raise ValueError("not an embeddings answer")
    if call.legacy:
        return jsonbody.encode({"embedding": vectors[0]})
    usage = jsonbody.as_object(parsed.get("usage"))
    return jsonbody.encode(
        {
            "model": call.model,
            "embeddings": vectors,
            "total_duration": total_ns,
            "load_duration": 0,
            "prompt_eval_count": usage.get("prompt_tokens", 0),
        }
    )
