"""Ollama's error shape (protocols.md §4.8): ``{"error": "<message>"}``."""

from __future__ import annotations

from gateway.errors import GatewayError
from gateway.formats.common.jsonbody import encode


def error_body(err: GatewayError) -> bytes:
    return encode({"error": err.message})
