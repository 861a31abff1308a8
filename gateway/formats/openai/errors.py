"""OpenAI's error shape, for complete responses and inside a stream (protocols.md §1.5, §9)."""

from __future__ import annotations

from gateway.errors import GatewayError
from gateway.formats.common.jsonbody import encode


def error_body(err: GatewayError) -> bytes:
    return encode(
        {
            "error": {
                "message": err.message,
                "type": err.error_type,
                "param": err.param,
                "code": err.code,
            }
        }
    )


def stream_error(err: GatewayError) -> bytes:
    """The in-band error after streaming began: an error event, then the end marker."""
    return b"data: " + error_body(err) + b"\n\ndata: [DONE]\n\n"
