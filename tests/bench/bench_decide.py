"""How long routing takes to decide, on an initialised router: ``python tests/bench/bench_decide.py``.

The router knows 60 models over five providers (two local, three hosted with two keys each), the
way a real install might. Each figure is the time for one whole decision of ``auto``: reading the
request's traits from its canonical form, rating its difficulty, filtering and ordering the
candidates, and expanding them into keys. Every route has a measured latency, as on a gateway that
has served a while: they break ``auto``'s ties, and ``auto:fast`` (a column of its own) orders every
route that can take the request by them. Also shown, side by side: a pinned ``provider/model``
name (the common case; the model rules, globs among them, are in place) and the canonical decoding
alone, which the decision includes.
The targets: a pinned name within 3 µs, a whole ``auto`` decision within 25 µs. On a machine others
are busy on, ``--clock cpu`` times this thread's CPU time instead of the wall clock, so waiting for
a core does not count.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from gateway.clock import SystemClock
from gateway.config.settings import HealthPolicy
from gateway.core.models import ModelEntry
from gateway.formats import openai_chat
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import KeyPool
from gateway.routing.router import AUTO, Plan, Router
from gateway.routing.traits import traits_of

MODELS = {
    "ollama": ["llama3.2:3b", "qwen2.5:7b", "qwen2.5-coder:32b", "gemma3:27b", "nomic-embed-text", "mistral:7b"],
    "lmstudio": ["qwen3-30b-a3b", "gpt-oss-20b", "deepseek-r1-distill-qwen-14b"],
    "openai": [
        "gpt-4o-mini",
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "o3",
        "o4-mini",
        "text-embedding-3-small",
        "text-embedding-3-large",
    ],
    "anthropic": ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-3-5-haiku-latest"],
    "openrouter": [f"vendor/model-{n}" for n in range(20)]
    + [
        "google/gemini-2.5-flash",
        "google/gemini-2.5-pro",
        "deepseek/deepseek-chat",
        "moonshotai/kimi-k2",
        "z-ai/glm-4.5",
        "x-ai/grok-4",
        "mistralai/devstral-medium",
        "meta-llama/llama-3.3-70b-instruct",
        "qwen/qwen3-coder",
        "openai/gpt-oss-120b",
        "x-ai/grok-3-mini",
    ],
}
RULES = (  # model rules as a Claude Code user with no Anthropic key might write them
    ("coding", ("openai/gpt-5", "openrouter/qwen/qwen3-coder")),
    ("claude-*", ("openai/gpt-5", "openrouter/moonshotai/kimi-k2")),
    ("*-haiku-*", ("openai/gpt-5-mini",)),
    ("gemini-*", ("openrouter/google/gemini-2.5-pro",)),
    ("default", ("openai/gpt-5-mini", "ollama/qwen2.5:7b")),
)
PROMPTS = {
    "greeting": "hi there!",
    "question": "What is the difference between a process and a thread in an operating system?",
    "coding": "Refactor this function so it handles empty input and explain why:\n"
    "```python\ndef first(xs):\n    return xs[0]\n```",
    "design": "Design a distributed rate limiter for a multi-region API; compare token bucket and sliding window "
    "strategies, evaluate the trade-offs and plan the migration from our current fixed-window limiter.",
}


def build() -> Router:
    clock = SystemClock()
    index = ModelIndex(list(MODELS))
    for provider, names in MODELS.items():
        index.set_models(provider, [ModelEntry(provider, n) for n in names])
    pools = {p: KeyPool(p, () if p in ("ollama", "lmstudio") else (f"{p}-1", f"{p}-2")) for p in MODELS}
    health = Health(clock, HealthPolicy())
    health.local = frozenset({"ollama", "lmstudio"})
    for n, (provider, names) in enumerate((p, ns) for p, ns in MODELS.items()):
        for m, name in enumerate(names):  # every route has served: each its own latency
            health.succeeded(pools[provider].order()[0], 0.2 + 0.05 * ((n * 7 + m * 3) % 11), name)
    return Router(
        index,
        pools,
        health,
        Capabilities(index, {}, ["ollama", "lmstudio"]),
        Affinity(clock, 3600),
        RULES,
    )


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def per_call(fn: Callable[[], object], seconds: float, clock: Callable[[], float] = time.perf_counter) -> float:
    """Median microseconds per call over several rounds."""
    rounds = []
    for _ in range(5):
        n, start = 0, clock()
        while (elapsed := clock() - start) < seconds / 5:
            for _ in range(100):
                fn()
            n += 100
        rounds.append(elapsed / n * 1e6)
    return statistics.median(rounds)


def measure(router: Router, name: str, prompt: str, seconds: float, clock: Callable[[], float]) -> str:
    call = openai_chat.parse_request({"model": AUTO, "messages": [{"role": "user", "content": prompt}]})
    size = len(prompt) + 60

    def decide() -> Plan:
        return router.plan(AUTO, router.targets(AUTO), lambda: traits_of(call.canonical(), size), lambda: "c")

    def fast() -> Plan:
        return router.plan("auto:fast", router.targets("auto:fast"), lambda: traits_of(call.canonical(), size))

    def pinned() -> Plan:
        return router.plan(
            "openai/gpt-4o-mini", router.targets("openai/gpt-4o-mini"), lambda: traits_of(call.canonical(), size)
        )

    plan = decide()
    level = plan.difficulty.level if plan.difficulty else 0
    auto_us, fast_us, pinned_us, decode_us = (
        per_call(f, seconds, clock) for f in (decide, fast, pinned, call.canonical)
    )
    return (
        f"{name:<10} {level:>5} {auto_us:>10.1f}µs {fast_us:>10.1f}µs {pinned_us:>10.1f}µs {decode_us:>10.1f}µs   "
        f"{plan.candidates[0].route}; fast: {fast().candidates[0].route.split(';')[0]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="per figure")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="wall", help="cpu: this thread's CPU time")
    args = parser.parse_args()
    router = build()
    router.plan(AUTO, router.targets(AUTO))  # initialised: the rated list is built once
    heads = ("decide auto", "auto:fast", "pinned name", "decode only")
    print(f"{'prompt':<10} {'level':>5} " + " ".join(f"{h:>12}" for h in heads) + "   chosen")
    for name, prompt in PROMPTS.items():
        print(measure(router, name, prompt, args.seconds, CLOCKS[args.clock]))


if __name__ == "__main__":
    main()
