"""A provider's keys or signed-in accounts as a pool, and the order a request tries them in.

Two rotation modes, chosen per provider:

- ``round-robin`` spreads requests evenly: each request starts one key further on. Where a
  ``rank`` is given (quota: the allowance an account has left for the time until its window
  resets), the better ranked go first and the rotation only breaks ties.
- ``sequential`` drains one key until it is limited, then the next: every request starts at the
  first key, and a key cooling down is simply skipped by the router.

Each key has a label (``openai#2``, ``codex:ada@example.com``) that names it in route headers,
logs and status, so the secret itself never has to. An account's token changes as it renews, so
its credential holds the account (``source``), asked for a token at each attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gateway.providers.access import Key, TokenSource
from gateway.providers.settings import ROTATIONS


@dataclass(frozen=True, slots=True)
class Credential:
    """One key of a provider, one signed-in account, or no key at all (a local server)."""

    provider: str
    label: str
    secret: Key = field(repr=False)
    source: TokenSource | None = field(default=None, repr=False, compare=False)

    @property
    def risk(self) -> str:
        return self.source.risk if self.source is not None else ""


Rank = Callable[[Credential], float]


class KeyPool:
    __slots__ = ("_keys", "_next", "_rank", "credentials", "rotation")

    def __init__(
        self,
        provider: str,
        secrets: tuple[str, ...],
        rotation: str = "round-robin",
        *,
        rank: Rank | None = None,
        accounts: bool = False,
    ) -> None:
        """``accounts``: the pool holds signed-in accounts (``set_accounts``), none at first."""
        if rotation not in ROTATIONS:
            raise ValueError(f"rotation must be one of {', '.join(ROTATIONS)}")
        if accounts:
            creds: tuple[Credential, ...] = ()
        elif len(secrets) > 1:
            creds = tuple(Credential(provider, f"{provider}#{n}", s) for n, s in enumerate(secrets, 1))
        else:
            creds = (Credential(provider, provider, secrets[0] if secrets else None),)
        self.credentials = creds
        self._keys = secrets
        self.rotation = rotation
        self._rank = rank
        self._next = 0

    def set_accounts(self, provider: str, sources: Sequence[TokenSource]) -> None:
        """The accounts this pool serves from now on, in the order given."""
        self.credentials = tuple(Credential(provider, s.label, None, s) for s in sources)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret of the pool now, for masking them in upstream errors."""
        tokens = tuple(t for c in self.credentials if c.source is not None for t in c.source.secrets())
        return self._keys + tokens if tokens else self._keys

    def order(self) -> tuple[Credential, ...]:
        """The keys in the order this request should try them."""
        creds = self.credentials
        if self.rotation == "sequential" or len(creds) <= 1:
            return creds
        start = self._next % len(creds)
        self._next = start + 1
        turned = creds[start:] + creds[:start]
        if self._rank is None or creds[0].source is None:
            return turned
        rank = self._rank
        return tuple(sorted(turned, key=lambda c: -rank(c)))  # stable: the rotation breaks ties

    def pick(self) -> Credential | None:
        """One key for a side request (a model list), in turn with the others."""
        order = self.order()
        return order[0] if order else None
