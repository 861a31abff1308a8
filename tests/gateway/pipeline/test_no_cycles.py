"""A request's objects are freed as soon as it is done: nothing of the pipeline's per-request
state (the call, its tally, the answer counted, the stream relayed) sits in a reference cycle,
which would keep the request's body until the rare full collection (an earlier Call holding a
bound method of itself kept 1.7 GiB in tests/e2e/test_memory_after_bursts.py).

Answered whole and streamed, passed through and translated, with the usage reported and counted
here (the held end of a Chat stream whose upstream sends none), and from the response cache."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import aiohttp
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "fake/gpt-test", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
ANTHROPIC = {"anthropic-version": "2023-06-01"}


async def test_answered_requests_leave_nothing_of_the_pipeline_in_reference_cycles(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    server = await start_gateway(provider_table("fake", upstream) + "[cache]\nenabled = true\n", {"FAKE_KEY": FAKE_KEY})
    sent: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        ("/v1/chat/completions", CHAT, {}),
        ("/v1/chat/completions", {**CHAT, "stream": True, "stream_options": {"include_usage": True}}, {}),
        ("/v1/messages", MESSAGES, ANTHROPIC),
        ("/v1/messages", {**MESSAGES, "stream": True}, ANTHROPIC),
        ("/v1/chat/completions", {**CHAT, "temperature": 0}, {}),  # the second time: from the cache
        ("/v1/chat/completions", {**CHAT, "temperature": 0, "stream": True}, {}),  # kept as it streams, then replayed
    ]

    async def answered(session: aiohttp.ClientSession) -> list[int]:
        statuses = []
        for path, body, headers in sent:
            async with session.post(f"{server.url}{path}", json=body, headers=headers) as r:
                await r.read()
                statuses.append(r.status)
        await server.gateway.counted()
        return statuses

    async with aiohttp.ClientSession() as session:
        await answered(session)  # first times (lazy imports, pools, the cache's entries)
        upstream.stream_usage = False  # a Chat stream's usage is counted here, its end held for it
        upstream.omit_usage = True  # and a whole answer's too
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds is kept, to be looked at
        try:
            assert await answered(session) == [200] * len(sent)
            await asyncio.sleep(0)  # the loop's turn that answered the last one is over
            gc.collect()
            held = sorted({type(o).__qualname__ for o in gc.garbage if type(o).__module__.startswith(PIPELINE)})
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    assert held == [], f"per-request objects of the pipeline in reference cycles: {held}"


PIPELINE = "gateway.pipeline."
