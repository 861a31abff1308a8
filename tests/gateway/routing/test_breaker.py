from __future__ import annotations

from gateway.routing.breaker import Breaker


def test_opens_after_consecutive_failures_only() -> None:
    b = Breaker(threshold=3, cooloff=30, max_cooloff=600)
    b.failure(0)
    b.failure(0)
    b.success()  # a success in between resets the count
    b.failure(1)
    b.failure(1)
    assert b.state(1) == "closed"
    b.failure(2)
    assert b.state(2) == "open" and not b.admits(2) and b.wait(2) == 30


def test_half_open_lets_exactly_one_probe_through() -> None:
    b = Breaker(threshold=1, cooloff=30, max_cooloff=600)
    b.failure(0)
    assert b.state(29.9) == "open" and not b.begin(29.9)
    assert b.state(30) == "half-open"
    assert b.begin(30)
    assert not b.begin(30) and not b.admits(31)  # the probe is out: nobody else
    b.success()
    assert b.state(31) == "closed" and b.begin(31) and b.begin(31)


def test_a_failed_probe_reopens_for_twice_as_long_up_to_the_cap() -> None:
    b = Breaker(threshold=1, cooloff=30, max_cooloff=100)
    b.failure(0)
    assert b.begin(30)
    b.failure(30)
    assert b.state(89) == "open" and b.state(90) == "half-open"
    assert b.begin(90)
    b.failure(90)
    assert b.wait(90) == 100  # capped
    assert b.begin(190)
    b.success()
    b.failure(200)
    assert b.wait(200) == 30  # a closed breaker starts over from the base cool-off


def test_an_abandoned_probe_frees_the_slot_without_a_verdict() -> None:
    b = Breaker(threshold=1, cooloff=30, max_cooloff=600)
    b.failure(0)
    assert b.begin(30)
    b.abandon()
    assert b.state(30) == "half-open" and b.begin(30)
