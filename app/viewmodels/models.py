"""The Models page in words: each model's context, what it can take, what it costs and whether it
answers now, as a person reads them; the search; what Try it offers and what it reports."""

from __future__ import annotations

from app.try_chat import Tried
from app.viewmodels.durations import span
from gateway import ModelRow

CAN = {"tools": "tools", "vision": "images", "thinking": "thinking", "embedding": "embeddings only"}
# Why the router holds a key back (routing/failure.py's verdicts, its breaker), as a person reads it.
RESTS = {
    "rate_limited": "too many requests just now",
    "quota_exhausted": "its quota is used up",
    "credential_refused": "its key or account was refused",
    "breaker_open": "its provider is not answering",
}


def context_words(tokens: int) -> str:
    """A context window as models are spoken of: 128K, 1M (blank when not known)."""
    if tokens <= 0:
        return ""
    if tokens >= 1_000_000:
        millions = tokens / 1_000_000
        return f"{millions:.0f}M" if millions >= 10 or millions.is_integer() else f"{millions:.1f}M"
    return f"{round(tokens / 1000)}K" if tokens >= 1000 else str(tokens)


def can_words(row: ModelRow) -> str:
    return ", ".join(CAN[c] for c in row["capabilities"] if c in CAN)


def _dollars(amount: float) -> str:
    if amount == 0:
        return "$0"
    return f"${amount:,.2f}" if amount >= 0.01 else f"${amount:.3f}"


def price_words(row: ModelRow) -> str:
    """Per million tokens in and out; or what is paid otherwise (short: the table fits a small screen)."""
    if row["kind"] == "auto":
        return "cheapest that fits"
    if row["billing"] == "local":
        return "free (your server)"
    if row["billing"] == "subscription":
        return "subscription"
    if row["input_price"] is None or row["output_price"] is None:
        return "not known"
    return f"{_dollars(row['input_price'])} in, {_dollars(row['output_price'])} out"


def rest_words(reason: str | None) -> str:
    """Why a model rests: the router's short reason in words, a sentence (an account's) as it is."""
    if not reason:
        return "it is resting"
    if reason in RESTS:
        return RESTS[reason]
    return reason if " " in reason else "it is resting"


def state_words(row: ModelRow) -> str:
    state = row["state"]
    if state == "ready":
        return "Ready"
    if state == "resting":
        left = row["seconds_left"]
        until = f" (for {span(left)} more)" if left is not None else ""
        return f"Resting: {rest_words(row['reason'])}{until}"
    if state == "failing":
        return f"Failed last time: {row['reason']}" if row["reason"] else "Failed last time"
    return "No key or account"


def provider_words(row: ModelRow) -> str:
    if row["kind"] == "model":
        return row["provider_name"]
    if row["kind"] == "auto":
        return "Switchboard chooses"
    return f"Switchboard: {', '.join(row['leads_to'])}"


def matches(row: ModelRow, query: str) -> bool:
    """Whether every word searched for appears in what the row shows (any case, any order)."""
    shown = " ".join(
        (row["id"], provider_words(row), can_words(row), price_words(row), state_words(row), *row["leads_to"])
    ).casefold()
    return all(word in shown for word in query.casefold().split())


def found(rows: list[ModelRow], query: str) -> list[ModelRow]:
    return [row for row in rows if matches(row, query)]


def chat_models(rows: list[ModelRow]) -> list[str]:
    """What Try it can send a message to: every model but those that only make embeddings, and no
    rule's pattern (``claude-*`` is not a name one can send to)."""
    return [row["id"] for row in rows if row["kind"] != "rule" and row["capabilities"] != ["embedding"]]


def route_words(route: str) -> str:
    """The gateway's route header (``provider/model; key=label; risk=…``) as a person reads it."""
    where, *details = (part.strip() for part in route.split(";"))
    labels = dict(part.partition("=")[::2] for part in details)
    if where.startswith("cache"):
        return "a saved answer (the same question was asked a moment ago)"
    key = labels.get("key")  # a key's label (openai#2) or an account's (codex:ada@example.com)
    if not key:
        return where
    return f"{where} (account “{key.partition(':')[2]}”)" if ":" in key else f"{where} (key “{key}”)"


def tried_words(tried: Tried) -> str:
    """What a test message proved: who answered, over which route, with how many tokens, how fast."""
    route = route_words(tried.route) if tried.route else tried.model_answered
    return (
        f"Answered through {route} in {tried.seconds:.1f} s: "
        f"{tried.input_tokens:,} tokens in, {tried.output_tokens:,} out."
    )
