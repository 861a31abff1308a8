"""OpenAI Chat Completions: request checks, the passthrough relay, and the canonical codec."""

from gateway.formats.openai_chat.checks import ChatCall, parse_request, upstream_body
from gateway.formats.openai_chat.relay import StreamRelay
from gateway.formats.openai_chat.usage import completion_usage, usage_from

__all__ = ["ChatCall", "StreamRelay", "completion_usage", "parse_request", "upstream_body", "usage_from"]
