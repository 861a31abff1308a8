"""How hard a request is, 1 to 5, from what it looks like — no model is asked.

Each signal adds to a score: the prompt's length, code in the newest user turn, words that ask
for reasoning (prove, debug, design, trade-offs…), tools, images, a long conversation, an explicit
request for reasoning effort. Words of simple tasks (translate, summarise, hello) take a little
off. The level is 1 plus the rounded score, at most 5. Deterministic and a few microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.routing.traits import Traits

# Plain substring and word-set tests rather than regular expressions: Python's regex engine
# takes tens of microseconds on a long alternation, these take one or two.
_CODE_MARKS = (
    "```",
    "def ",
    "class ",
    "function(",
    "function ",
    "#include",
    "import ",
    "=>",
    "const ",
    "};",
    "();",
    "select ",
    "traceback (most recent call last)",
    "public static",
    "fn ",
    "<div",
    "console.log",
)
_REASONING_PHRASES = ("step by step", "step-by-step", "race condition", "trade-off", "tradeoff", "edge case")
_REASONING_WORDS = frozenset(
    [
        "prove",
        "proof",
        "derive",
        "analyze",
        "analyse",
        "analysis",
        "architecture",
        "architectural",
        "design",
        "designing",
        "optimize",
        "optimise",
        "optimization",
        "optimisation",
        "optimizing",
        "algorithm",
        "algorithms",
        "algorithmic",
        "complexity",
        "debug",
        "debugging",
        "refactor",
        "refactoring",
        "concurrency",
        "concurrent",
        "why",
        "compare",
        "comparison",
        "evaluate",
        "plan",
        "strategy",
        "implement",
        "implementation",
        "implementing",
        "migrate",
        "migration",
        "security",
        "vulnerability",
        "vulnerabilities",
        "scalable",
        "scalability",
        "distributed",
        "deadlock",
        "invariant",
        "theorem",
    ]
)
_SIMPLE_WORDS = frozenset(
    [
        "translate",
        "summarize",
        "summarise",
        "rephrase",
        "spell",
        "hello",
        "hi",
        "thanks",
        "thank",
        "define",
        "synonym",
        "capital",
    ]
)
_NOT_LETTERS = str.maketrans({c: " " for c in "\n\t\r.,;:!?()[]{}<>\"'`*/\\=+|&^%$#@~0123456789"})
_LENGTH_STEPS = ((300, 0.0), (1500, 0.5), (6000, 1.0), (24000, 1.5))


@dataclass(frozen=True, slots=True)
class Difficulty:
    level: int
    scores: tuple[tuple[str, float], ...]  # each signal that counted, and what it added


def rate(traits: Traits) -> Difficulty:
    scores: list[tuple[str, float]] = []
    tokens = traits.prompt_tokens
    length = next((score for below, score in _LENGTH_STEPS if tokens < below), 2.0)
    if length:
        scores.append(("length", length))
    text = traits.text.lower()
    if any(mark in text for mark in _CODE_MARKS):
        scores.append(("code", 1.0))
    words = set(text.translate(_NOT_LETTERS).split())
    cues = len(words & _REASONING_WORDS) + sum(phrase in text for phrase in _REASONING_PHRASES)
    if cues:
        scores.append(("reasoning", min(3.0, 0.75 * cues)))
    if traits.tools:
        scores.append(("tools", 0.5))
    if traits.images:
        scores.append(("images", 0.5))
    if traits.messages > 12:
        scores.append(("conversation", 0.5))
    if traits.reasoning:
        scores.append(("effort", 1.0))
    if not scores and words & _SIMPLE_WORDS:
        scores.append(("simple", -0.5))
    total = sum(score for _, score in scores)
    return Difficulty(max(1, min(5, 1 + int(total + 0.5))), tuple(scores))
