from __future__ import annotations

import logging

import pytest

from gateway.core.models import ModelEntry
from gateway.routing.model_index import ModelIndex
from gateway.routing.unserved import report_unserved, unlisted_routes


def lists() -> ModelIndex:
    index = ModelIndex(["a", "b", "ollama"])
    index.set_models("a", [ModelEntry("a", "a1"), ModelEntry("a", "meta/llama-3")])
    index.set_models("b", [ModelEntry("b", "a1")])
    return index  # ollama: not running, so it has no list


def test_a_route_counts_as_unlisted_only_when_the_lists_say_so() -> None:
    index = lists()
    assert unlisted_routes(("a/a1", "a1", "meta/llama-3", "a/meta/llama-3"), index) == ()
    assert unlisted_routes(("a/a-one", "b/a1", "gpt-9", "b/a1:latest"), index) == ("a/a-one", "gpt-9")
    assert unlisted_routes(("ollama/llama3",), index) == ()  # its server is down: nothing known of it yet


def test_rules_leading_nowhere_are_said_in_words(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "gateway.routing")
    rules = [("fine", ("a/a1",)), ("typo", ("a/a-one", "b/a1")), ("lost", ("gpt-9", "a/gpt-9"))]
    report_unserved(rules, lists())
    assert [r.getMessage() for r in caplog.records] == [
        'alias "typo": no provider lists "a/a-one"; requests for it go to its other routes',
        'alias "lost": no provider lists "gpt-9" or "a/gpt-9"; requests for it find nowhere to go',
    ]
