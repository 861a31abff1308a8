"""What an answered request cost in US dollars, from its route's model prices.

A route's price is, in rising precedence: the bundled table (``model_facts.toml``), what the
provider's own model list says (OpenRouter's gives prices), and the config's ``[models."p/m"]
cost``. Cached input tokens are part of the prompt tokens and cost the row's ``cached`` price
where the table publishes one, else a share of the input price typical of the model's family;
tokens written to Anthropic's prompt cache cost a quarter more than other input, twice as much
when written to its one-hour cache.
Reasoning tokens are output tokens. Routes of subscriptions and local servers cost nothing here;
what the same tokens would have cost at list price is kept beside, as ``list_cost``, so a report
can say what they saved.

A price is worked out once per (provider, model) and kept until a model list changes; pricing a
request is then a dict lookup and a few multiplications.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.config.settings import ModelOverride
from gateway.core.models import ModelEntry
from gateway.core.usage import Usage
from gateway.routing.model_facts import facts_for
from gateway.routing.model_index import ModelIndex

# What cached input costs, as a share of the input price, where a row publishes no price of its
# own: Anthropic's cache reads are a tenth; Gemini's, Grok's, DeepSeek's and Kimi's about a
# quarter; OpenAI's from a tenth to a half (its rows say). Other families: no discount known.
CACHED_SHARE = {"claude": 0.1, "gemini": 0.25, "grok": 0.25, "deepseek2": 0.25, "kimi": 0.25, "gpt": 0.5}
# What writing input to the prompt cache costs, as a share of the input price: Anthropic bills it
# apart (a quarter more for its five-minute cache, twice for its one-hour cache); other providers'
# caches are written for free.
WRITE_SHARE = {"claude": (1.25, 2.0)}
MAX_REMEMBERED = 4096


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million tokens at list price; ``billed``: False where the route's tokens
    cost nothing here (a subscription's account, a local server)."""

    input: float
    output: float
    cached: float  # input read from the prompt cache
    billed: bool = True
    written: float | None = None  # input written to the prompt cache (None: as other input)
    written_hour: float | None = None  # input written to the one-hour cache (None: as other input)

    def dollars(self, usage: Usage) -> float:
        """What ``usage`` costs at these prices (its prompt tokens include those read from and
        written to the cache)."""
        cached, written = usage.cached_tokens, usage.cache_write_tokens
        fresh = max(usage.prompt_tokens - cached - written, 0)
        dollars = fresh * self.input + cached * self.cached + usage.completion_tokens * self.output
        if written:
            hour = usage.cache_write_hour_tokens
            dollars += (written - hour) * (self.input if self.written is None else self.written)
            dollars += hour * (self.input if self.written_hour is None else self.written_hour)
        return dollars / 1e6


FREE = Price(0.0, 0.0, 0.0, billed=False)  # a free route without a list price to compare with


def cost_of(price: Price | None, usage: Usage | None) -> tuple[float, float, bool]:
    """(cost, list_cost, unpriced) of one answer: ``unpriced`` when it used tokens and its
    route's price is unknown (both costs are then 0)."""
    if usage is None:
        return 0.0, 0.0, False
    if price is None:
        return 0.0, 0.0, usage.prompt_tokens + usage.completion_tokens > 0
    listed = price.dollars(usage)
    return (listed if price.billed else 0.0), listed, False


def price_of(entry: ModelEntry, override: ModelOverride | None, billed: bool) -> Price | None:
    """A route's price from the bundled facts with the provider's list (``entry``) and the
    config's ``override`` over them. Free routes (``billed`` False) are never unknown."""
    facts = facts_for(entry)
    cost = override.cost if override is not None and override.cost is not None else facts.cost
    if cost is None:
        return None if billed else FREE
    cached = facts.cached if cost == facts.cost and facts.cached is not None else None
    if cached is None:
        cached = cost[0] * CACHED_SHARE.get(facts.family, 1.0)
    shares = WRITE_SHARE.get(facts.family)
    if shares is None:
        return Price(cost[0], cost[1], cached, billed)
    return Price(cost[0], cost[1], cached, billed, cost[0] * shares[0], cost[0] * shares[1])


class Pricing:
    """Each route's price, resolved on first use and remembered. ``index``: the providers' model
    lists (their prices); ``overrides``: the config's ``[models]``; ``free``: the providers
    whose tokens cost nothing here (local servers, subscriptions)."""

    def __init__(
        self,
        index: ModelIndex | None = None,
        overrides: Mapping[str, ModelOverride] | None = None,
        free: Iterable[str] = (),
    ) -> None:
        self._index = index
        self._overrides = dict(overrides or {})
        self._free = frozenset(free)
        self._known: dict[tuple[str, str], Price | None] = {}
        self._version = index.version if index is not None else 0

    def of(self, provider: str, model: str) -> Price | None:
        """The price of ``model`` at ``provider``; None when unknown (and the route is metered)."""
        index = self._index
        if index is not None and self._version != index.version:  # a new list may state new prices
            self._known.clear()
            self._version = index.version
        key = (provider, model)
        try:
            return self._known[key]
        except KeyError:
            pass
        model_id = f"{provider}/{model}"
        entry = (index.get(model_id) if index is not None else None) or ModelEntry(provider, model)
        price = price_of(entry, self._overrides.get(model_id), provider not in self._free)
        if len(self._known) >= MAX_REMEMBERED:
            self._known.clear()
        self._known[key] = price
        return price
