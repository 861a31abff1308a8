"""A relayed stream whose end the relay held back: what the service gives for it goes out once,
after the last events and before nothing else, wherever the upstream's end fell."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from gateway.core.models import Target
from gateway.core.usage import Usage
from gateway.formats import openai_chat
from gateway.formats.interfaces import Relay
from gateway.pipeline.stream_reply import StreamReply


class Reads:
    """An upstream body that arrives in the given reads."""

    def __init__(self, reads: list[bytes]) -> None:
        self.status = 200
        self.headers: Mapping[str, str] = {"Content-Type": "text/event-stream"}
        self._reads = reads

    async def read(self, limit: int) -> bytes:
        raise AssertionError("a stream is read chunk by chunk")

    async def read_chunk(self) -> bytes:
        return self._reads.pop(0) if self._reads else b""

    @property
    def finished(self) -> bool:
        return not self._reads

    def close(self) -> None:
        pass

    def release(self) -> None:
        pass


def chunk(delta: dict[str, str]) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"
COUNTED = Usage(7, 2, estimated=True)


async def relayed(reads: list[bytes], *, wants_usage: bool) -> tuple[list[bytes], list[bytes], int]:
    """What the client is sent, what was kept for counting, and how often the end was asked for
    (the first piece read as the service reads it: up to the first real event). The answer is
    counted once, with its usage, before the last piece is handed out (issue 20, item 13: a
    process killed once the client has it all has journaled its ledger row)."""
    relay = openai_chat.StreamRelay(drop_usage_chunk=False, wants_usage=wants_usage)
    first = relay.feed(reads.pop(0))
    sent: list[bytes] = []

    class Answer:
        """Gives the held end with the count when asked; notes how many pieces the client had
        when the answer was counted."""

        def __init__(self) -> None:
            self.kept: list[bytes] | None = []
            self.asked = 0
            self.counted_at: list[int] = []

        async def end(self, done: Relay) -> bytes:
            self.asked += 1
            return relay.end(COUNTED) if relay.owes_usage else b""

        def counted(self, done: Relay) -> None:
            assert done.usage == (COUNTED if wants_usage else None)
            self.counted_at.append(len(sent))

    answer = Answer()
    reply = StreamReply(first, relay, Reads(reads), Target("p", "m"), answer)
    async for piece in reply:
        sent.append(piece)
    assert reply.complete
    reply.close()
    assert answer.counted_at == [len(sent) - 1]
    assert answer.kept is not None
    return sent, answer.kept, answer.asked


@pytest.mark.parametrize(
    "reads",
    [
        [chunk({"role": "assistant"}) + chunk({"content": "hi"}) + DONE],  # all in the first read
        [chunk({"role": "assistant"}), chunk({"content": "hi"}) + DONE],  # with the last events
        [chunk({"role": "assistant"}), chunk({"content": "hi"}), DONE],  # on its own: nothing else to send
    ],
    ids=["first-read", "with-last-events", "alone"],
)
async def test_the_held_end_goes_out_last_with_the_usage(reads: list[bytes]) -> None:
    sent, kept, asked = await relayed(reads, wants_usage=True)
    whole = b"".join(sent)
    assert whole.startswith(chunk({"role": "assistant"}) + chunk({"content": "hi"}))
    assert whole.endswith(
        b'"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}\n\n' + DONE
    )
    assert whole.count(DONE) == 1 and asked == 1
    assert b"".join(kept) == whole  # counted, and cached, as it was sent


async def test_a_stream_that_owes_nothing_is_sent_as_it_came() -> None:
    reads = [chunk({"role": "assistant"}), chunk({"content": "hi"}) + DONE]
    sent, _, asked = await relayed(list(reads), wants_usage=False)
    assert sent == reads and asked == 1
