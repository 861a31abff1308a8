"""Conversation affinity is one caller's (issue 23, point 3): two callers whose conversations open
with the same message are not held on each other's key, while each caller's own conversation stays
on the key that served it; the name asked for is part of the key too."""

from __future__ import annotations

from fakes.clock import FakeClock

from gateway.config.settings import HealthPolicy
from gateway.core.models import ModelEntry
from gateway.formats import openai_chat
from gateway.pipeline.call import Call
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import KeyPool
from gateway.routing.router import Plan, Router

HI = [{"role": "user", "content": "Hi"}]


def make() -> Router:
    clock = FakeClock()
    index = ModelIndex(["openai"])
    index.set_models("openai", [ModelEntry("openai", "gpt-test"), ModelEntry("openai", "gpt-other")])
    pools = {"openai": KeyPool("openai", ("k1", "k2"), "sequential")}  # every plan: openai#1, then openai#2
    health = Health(clock, HealthPolicy())
    return Router(index, pools, health, Capabilities(index, {}, []), Affinity(clock, 600), (("both", ("gpt-test",)),))


def plan(router: Router, caller: str, model: str = "gpt-test") -> Plan:
    call = Call(openai_chat.parse_request({"model": model, "messages": HI}), caller=caller)
    return router.plan(model, router.targets(model), call.traits, call.conversation)


def test_two_callers_opening_alike_are_not_held_on_each_others_key() -> None:
    router = make()
    ada = plan(router, "ada")
    assert [c.cred.label for c in ada.candidates] == ["openai#1", "openai#2"]
    router.served(ada, ada.candidates[1])  # ada's "Hi" was answered on the second key
    assert plan(router, "ada").candidates[0].cred.label == "openai#2"  # her conversation stays there
    assert plan(router, "bob").candidates[0].cred.label == "openai#1"  # bob's own "Hi" is not hers
    assert plan(router, "ada", "both").candidates[0].cred.label == "openai#1"  # nor is her "Hi" to another name
