from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from fakes.clock import FakeClock
from fakes.transport import CannedResponse, FakeTransport, unreachable

from gateway.core.models import ModelEntry
from gateway.ids import RequestIds
from gateway.providers.openai_compatible import OpenAICompatible
from gateway.providers.settings import ProviderSettings
from gateway.routing.model_index import ModelIndex
from gateway.routing.model_sync import ASK_AGAIN_AFTER, RETRY_AFTER_FAILURE, ListedModels, ModelSync
from gateway.routing.pool import KeyPool
from gateway.transport import UpstreamRequest


def provider(pid: str, base_url: str = "", models: tuple[str, ...] = (), probe: bool = False) -> OpenAICompatible:
    address = base_url or f"https://{pid}.example/v1"
    settings = ProviderSettings(id=pid, name=pid, base_url=address, keys=("k-123456789",), models=models, probe=probe)
    return OpenAICompatible(settings)


def listing(*ids: str) -> CannedResponse:
    return CannedResponse(200, json.dumps({"object": "list", "data": [{"id": i} for i in ids]}).encode())


class Upstreams:
    """What each provider answers to GET /models right now."""

    def __init__(self) -> None:
        self.models = {"a": ["a1"], "b": ["b1"]}
        self.down: set[str] = set()

    async def __call__(self, request: UpstreamRequest) -> CannedResponse:
        if request.provider in self.down:
            raise unreachable(request.provider)
        return listing(*self.models[request.provider])


def build(
    upstreams: Upstreams, clock: FakeClock, *providers: OpenAICompatible, **options: Any
) -> tuple[ModelSync, ModelIndex, FakeTransport]:
    transport = FakeTransport(upstreams)
    index = ModelIndex([p.id for p in providers])
    keys = {p.id: KeyPool(p.id, p.settings.keys) for p in providers}
    sync = ModelSync(providers, keys, index, transport, clock, interval=600, new_request_id=RequestIds(), **options)
    return sync, index, transport


async def test_an_unreachable_provider_does_not_fail_the_list() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    upstreams.down.add("b")
    sync, index, _ = build(upstreams, clock, provider("a"), provider("b"))
    assert await sync.refresh() is False
    assert [e.id for e in index.entries()] == ["a/a1"]
    assert sync.incomplete


async def test_lists_refresh_in_the_background_and_failures_retry_sooner() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    sync, index, transport = build(upstreams, clock, provider("a"), provider("b"))
    task = asyncio.create_task(sync.run())
    await clock.advance(0)
    await sync.wait_ready(1)
    assert [e.id for e in index.entries()] == ["a/a1", "b/b1"]
    assert clock.sleeping == [600]

    upstreams.models["a"] = ["a1", "a2"]
    upstreams.down.add("b")
    await clock.advance(600)
    assert [e.id for e in index.entries()] == ["a/a1", "a/a2", "b/b1"]  # b keeps its last good list
    assert clock.sleeping == [RETRY_AFTER_FAILURE]

    upstreams.down.clear()
    upstreams.models["b"] = ["b2"]
    await clock.advance(RETRY_AFTER_FAILURE)
    assert [e.id for e in index.entries()] == ["a/a1", "a/a2", "b/b2"]
    assert clock.sleeping == [600 - RETRY_AFTER_FAILURE]  # the next full round keeps its time
    assert all(r.headers and dict(r.headers)["Authorization"] == "Bearer k-123456789" for r in transport.sent)
    task.cancel()


async def test_an_absent_local_server_is_asked_again_alone_and_quietly_between_full_rounds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstreams, clock = Upstreams(), FakeClock()
    upstreams.down.add("b")  # b: a local server looked for on its usual port, not running
    sync, _, transport = build(upstreams, clock, provider("a"), provider("b", probe=True))
    task = asyncio.create_task(sync.run())
    await clock.advance(0)
    caplog.clear()
    caplog.set_level(logging.INFO, "gateway.models")
    for _ in range(5):
        await clock.advance(RETRY_AFTER_FAILURE)
    asked = [r.provider for r in transport.sent]
    assert asked == ["a", "b", "b", "b", "b", "b", "b"]  # a's list is asked for on its interval only
    assert caplog.records == []  # no line for each look
    await clock.advance(600 - 5 * RETRY_AFTER_FAILURE)
    assert [r.provider for r in transport.sent][len(asked) :] == ["a", "b"]  # the next full round
    task.cancel()


async def test_the_background_loop_says_once_when_its_first_round_is_in() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    sync, index, _ = build(upstreams, clock, provider("a"))
    seen: list[bool] = []
    task = asyncio.create_task(sync.run(then=lambda: seen.append(index.has_list("a"))))
    await clock.advance(0)
    await clock.advance(600)
    assert seen == [True]  # after the first round, with its lists; not again
    task.cancel()


async def test_a_full_round_makes_the_sync_ready_without_its_background_loop() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    upstreams.down.add("b")
    sync, _, _ = build(upstreams, clock, provider("a"), provider("b", probe=True))
    assert not sync.ready
    await sync.refresh()  # what `decide` and `models` on the command line do, with no loop running
    assert sync.ready and sync.incomplete  # nothing waits for a server that is not running


async def test_fixed_lists_are_never_fetched() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    sync, index, transport = build(upstreams, clock, provider("a", models=("x", "y")))
    assert await sync.refresh() is True
    assert [e.id for e in index.entries()] == ["a/x", "a/y"] and transport.sent == []


async def test_unknown_names_wait_for_one_shared_refresh() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    upstreams.down.add("a")
    sync, index, transport = build(upstreams, clock, provider("a"))
    await sync.refresh()
    upstreams.down.clear()
    await clock.advance(ASK_AGAIN_AFTER)
    before = len(transport.sent)
    await asyncio.gather(*(sync.refresh_missing(1) for _ in range(10)))
    assert len(transport.sent) == before + 1
    assert index.resolve("a1") is not None


async def test_a_provider_that_is_down_is_not_asked_on_every_request() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    upstreams.down.add("a")
    sync, _, transport = build(upstreams, clock, provider("a"))
    await sync.refresh()
    for _ in range(5):
        await sync.refresh_missing(1)
    assert len(transport.sent) == 1
    await clock.advance(ASK_AGAIN_AFTER)
    await sync.refresh_missing(1)
    assert len(transport.sent) == 2


async def test_a_name_asked_during_the_first_fetch_waits_for_its_answer() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    gate = asyncio.Event()

    async def slow(request: UpstreamRequest) -> CannedResponse:
        await gate.wait()  # the list is still on its way when the request arrives
        return await upstreams(request)

    sync, index, transport = build(upstreams, clock, provider("a"))
    transport.handler = slow
    first_round = asyncio.create_task(sync.refresh())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(sync.refresh_missing(5))
    await asyncio.sleep(0)
    assert not waiting.done()
    gate.set()
    await waiting
    assert index.resolve("a1") is not None
    assert len(transport.sent) == 1  # it waited for the fetch in flight instead of asking again
    await first_round


def kept_lists(
    upstreams: Upstreams, clock: FakeClock, *providers: OpenAICompatible, ttl: float = 3600
) -> tuple[ModelSync, ModelIndex, list[ListedModels]]:
    kept: list[ListedModels] = []
    sync, index, _ = build(upstreams, clock, *providers, ttl=ttl, keep=kept.append)
    return sync, index, kept


async def test_lists_are_kept_and_a_restart_routes_by_them_before_any_provider_answers() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    sync, _, kept = kept_lists(upstreams, clock, provider("a"), provider("b"))
    assert await sync.refresh()
    assert [(k.provider, k.source, [e.id for e in k.entries]) for k in kept] == [
        ("a", "https://a.example/v1", ["a/a1"]),
        ("b", "https://b.example/v1", ["b/b1"]),
    ]

    upstreams.down.update({"a", "b"})
    await clock.advance(1800)
    again, index, _ = kept_lists(upstreams, clock, provider("a"), provider("b"))
    assert not again.ready
    again.restore(ListedModels.from_row(k.row()) for k in kept)
    assert again.ready  # every list is held: nobody waits for the first round
    assert [e.id for e in index.entries()] == ["a/a1", "b/b1"]
    assert await again.refresh() is False and [e.id for e in index.entries()] == ["a/a1", "b/b1"]


def test_a_kept_list_keeps_what_the_provider_said_of_each_model() -> None:
    entry = ModelEntry("a", "m/1", 1_700_000_000, 200_000, 8192, ("completion", "tools", "vision"), (0.5, 1.5))
    listed = ListedModels("a", "https://a.example/v1", 1.0, (entry, ModelEntry("a", "plain")))
    assert ListedModels.from_row(listed.row()) == listed
    assert ListedModels.from_row(("a", "https://a.example/v1", 1.0, '[["m", "x"]]')) is None  # unreadable: asked afresh
    assert ListedModels.from_row(("a", "https://a.example/v1", 1.0, "{")) is None


async def test_a_kept_list_that_is_stale_or_from_another_address_is_not_used() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    sync, _, kept = kept_lists(upstreams, clock, provider("a"), provider("b"), ttl=3600)
    await sync.refresh()
    await clock.advance(3601)
    again, index, _ = kept_lists(
        upstreams, clock, provider("a"), provider("b", base_url="https://elsewhere.example/v1")
    )
    again.restore([*[ListedModels.from_row(k.row()) for k in kept], None])
    assert index.entries() == [] and again.incomplete

    moved, index, _ = kept_lists(
        upstreams, clock, provider("a"), provider("b", base_url="https://elsewhere.example/v1"), ttl=7200
    )
    moved.restore(kept)
    assert [e.id for e in index.entries()] == ["a/a1"]  # b's list was taken at another address


async def test_a_list_not_confirmed_within_its_ttl_is_dropped() -> None:
    upstreams, clock = Upstreams(), FakeClock()
    sync, index, _ = kept_lists(upstreams, clock, provider("a"), provider("b"), ttl=3600)
    await sync.refresh()
    upstreams.down.add("b")
    await clock.advance(3000)
    await sync.refresh()
    assert [e.id for e in index.entries()] == ["a/a1", "b/b1"]  # down for a while: its last list still serves
    await clock.advance(700)
    await sync.refresh()
    assert [e.id for e in index.entries()] == ["a/a1"] and sync.incomplete
    upstreams.down.clear()
    await sync.refresh()
    assert [e.id for e in index.entries()] == ["a/a1", "b/b1"]
