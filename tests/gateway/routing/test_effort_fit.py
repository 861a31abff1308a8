"""Each route's model takes what its facts say of reasoning: the efforts it knows, none when it does
not think, a thinking budget within its answer's limit; a model the facts do not know takes any."""

from __future__ import annotations

from gateway.core.models import ModelEntry, Target
from gateway.routing.capabilities import Capabilities
from gateway.routing.model_index import ModelIndex

MODELS = ["gpt-5", "gpt-5.2", "gpt-4o", "o3", "claude-sonnet-4-5", "gpt-test"]


def capabilities() -> Capabilities:
    index = ModelIndex(["p"])
    index.set_models("p", [ModelEntry("p", name) for name in MODELS])
    return Capabilities(index, {}, [])


def test_efforts_and_budgets_as_each_model_takes_them() -> None:
    fit = capabilities().fit
    assert fit(Target("p", "gpt-5")).nearest("xhigh") == "high"
    assert fit(Target("p", "gpt-5")).nearest("minimal") == "minimal"
    assert fit(Target("p", "gpt-5.2")).nearest("xhigh") == "xhigh"
    assert fit(Target("p", "o3")).nearest("minimal") == "low"
    assert fit(Target("p", "gpt-4o")).nearest("low") is None  # it does not think
    assert fit(Target("p", "claude-sonnet-4-5")).output == 64000
    assert fit(Target("p", "gpt-test")).nearest("xhigh") == "xhigh"  # not known: as asked
