"""A very fast OpenAI-compatible upstream for benchmarks: canned answers over raw HTTP/1.1.

It must not be the bottleneck, so it skips aiohttp and answers from an asyncio Protocol:
``POST .../chat/completions`` with a complete completion, or with an SSE stream of 12 chunk events
(plus the usage-only chunk when the body asks for ``include_usage``) sent as HTTP chunks, then
``[DONE]``. Under a base path with ``/limited/`` it answers 429, and under ``/broken/`` every other
call 500 (the soak's failing providers: a flaky one opens no breaker). Keep-alive, Content-Length
request bodies. Run: ``python fast_upstream.py PORT``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from typing import Any, cast

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-bench",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
    }
).encode()


def _event(delta: dict[str, Any], finish: str | None = None) -> bytes:
    chunk = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-bench",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _chunked(events: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"


_EVENTS = (
    [_event({"role": "assistant", "content": ""})]
    + [_event({"content": f" word{i}"}) for i in range(10)]
    + [_event({}, "stop")]
)
_USAGE = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-bench",'
    b'"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22}}\n\n'
)
_DONE = b"data: [DONE]\n\n"
_SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
STREAM = _SSE_HEAD + _chunked([*_EVENTS, _DONE])
STREAM_WITH_USAGE = _SSE_HEAD + _chunked([*_EVENTS, _USAGE, _DONE])
JSON_REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(COMPLETION),
    COMPLETION,
)
MODELS = b'{"object":"list","data":[{"id":"gpt-bench","object":"model","created":0,"owned_by":"bench"}]}'
MODELS_REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(MODELS),
    MODELS,
)
LIMITED = b'{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}'
LIMITED_REPLY = b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(LIMITED),
    LIMITED,
)
BROKEN = b'{"error":{"message":"The server had an error","type":"server_error","code":null}}'
BROKEN_REPLY = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
    % (len(BROKEN), BROKEN)
)
_BROKEN_CALLS = itertools.count()
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Upstream(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream connection's transport writes; uvloop's is not a subclass of asyncio's, so no isinstance.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].lower()
            length = 0
            at = head.find(b"content-length:")
            if at >= 0:
                length = int(head[at + 15 : head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else len(head)])
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4 : end + 4 + length]
            self.buf = self.buf[end + 4 + length :]
            line = head[: head.find(b"\r\n")]
            if b"/chat/completions" in line:
                if b"/limited/" in line:
                    self.transport.write(LIMITED_REPLY)
                elif b"/broken/" in line and next(_BROKEN_CALLS) % 2 == 0:
                    self.transport.write(BROKEN_REPLY)
                elif b'"stream":true' in body or b'"stream": true' in body:
                    self.transport.write(STREAM_WITH_USAGE if b"include_usage" in body else STREAM)
                else:
                    self.transport.write(JSON_REPLY)
            elif b"/models" in line:
                self.transport.write(MODELS_REPLY)
            else:
                self.transport.write(NOT_FOUND)


async def main(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Upstream, "127.0.0.1", port, backlog=1024)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
