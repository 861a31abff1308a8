"""Dollars as the Usage page says them: what requests cost, and what subscriptions and local
models saved (the same tokens at list price, less what was paid)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway import Totals


def dollars(amount: float) -> str:
    """``$1,234.50``; under a cent to four places (``$0.0042``), so a cheap request is not $0.00."""
    if amount == 0:
        return "$0"
    sign = "−" if amount < 0 else ""
    amount = abs(amount)
    return f"{sign}${amount:,.2f}" if amount >= 0.01 else f"{sign}${amount:.4f}".rstrip("0")


def short_dollars(amount: float) -> str:
    """A chart's scale: ``$0.5``, ``$12``, ``$1.2k``."""
    if amount >= 1000:
        return f"${amount / 1000:.1f}".removesuffix(".0") + "k"
    return f"${amount:.2f}".rstrip("0").rstrip(".") if amount else "$0"


def saved(row: Totals) -> float:
    """What subscriptions and local models saved on these requests: list price less cost."""
    return max(0.0, row["list_cost"] - row["cost"])


@dataclass(frozen=True, slots=True)
class Money:
    spent: float
    saved: float
    unpriced: int  # requests whose route had no known price: not counted in either


def money_of(rows: Iterable[Totals]) -> Money:
    rows = list(rows)
    return Money(sum(r["cost"] for r in rows), sum(saved(r) for r in rows), sum(r["unpriced"] for r in rows))


def money_words(money: Money) -> str:
    said = (
        f"Spent {dollars(money.spent)} in this period. Saved by subscriptions and local models: {dollars(money.saved)}."
    )
    if money.unpriced:
        many = "requests that used models" if money.unpriced != 1 else "request that used a model"
        said += f" Not counted: {money.unpriced:,} {many} with no known price."
    return said
