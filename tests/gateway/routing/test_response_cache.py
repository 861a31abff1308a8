from __future__ import annotations

from typing import TypedDict, Unpack

from fakes.clock import FakeClock

from gateway.config.settings import CacheSettings
from gateway.routing.response_cache import ResponseCache

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0}


class Bounds(TypedDict, total=False):
    """The CacheSettings these tests vary (the cache is always on)."""

    ttl: float
    max_entries: int
    max_bytes: int
    sampled: bool


def cache(clock: FakeClock, **settings: Unpack[Bounds]) -> ResponseCache:
    return ResponseCache(clock, CacheSettings(enabled=True, **settings))


def test_only_deterministic_requests_are_cached_unless_configured() -> None:
    c = cache(FakeClock())
    assert c.key("k1", "openai-chat", BODY) is not None
    assert c.key("k1", "openai-chat", {**BODY, "temperature": 0.7}) is None
    assert c.key("k1", "openai-chat", {"model": "m", "messages": []}) is None  # unset: the upstream samples
    assert c.key("k1", "ollama", {"model": "m", "options": {"temperature": 0}}) is not None
    assert cache(FakeClock(), sampled=True).key("k1", "openai-chat", {**BODY, "temperature": 1}) is not None
    assert ResponseCache(FakeClock(), CacheSettings()).key("k1", "openai-chat", BODY) is None  # off by default


def test_two_callers_never_share_an_answer() -> None:
    c = cache(FakeClock())
    mine = c.key("caller-1", "openai-chat", BODY)
    assert mine is not None
    c.put(mine, (b"answer",), False, "r")
    theirs = c.key("caller-2", "openai-chat", BODY)
    assert theirs is not None and theirs != mine and c.get(theirs) is None
    assert c.key("caller-1", "anthropic", BODY) != mine  # nor two protocols


def test_entries_expire_and_hits_and_misses_are_counted() -> None:
    clock = FakeClock()
    c = cache(clock, ttl=60)
    key = c.key("k", "openai-chat", BODY)
    assert key is not None and c.get(key) is None
    c.put(key, (b"a", b"b"), True, "r")
    hit = c.get(key)
    assert hit is not None and hit.chunks == (b"a", b"b") and hit.stream
    clock._mono += 61
    assert c.get(key) is None
    assert c.stats() == {"enabled": True, "entries": 0, "bytes": 0, "hits": 1, "misses": 2}


def test_the_least_recently_used_go_first_within_the_bounds() -> None:
    c = cache(FakeClock(), max_entries=2, max_bytes=400)
    keys = [key for n in range(4) if (key := c.key("k", "p", {**BODY, "n": n})) is not None]
    assert len(keys) == 4
    c.put(keys[0], (b"x" * 10,), False, "r")
    c.put(keys[1], (b"x" * 10,), False, "r")
    c.get(keys[0])
    c.put(keys[2], (b"x" * 10,), False, "r")
    assert c.get(keys[1]) is None and c.get(keys[0]) is not None
    c.put(keys[3], (b"x" * 101,), False, "r")  # over a quarter of the budget
    assert c.get(keys[3]) is None
    assert c.stats()["bytes"] <= 400
