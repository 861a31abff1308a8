"""A provider's keys as a pool, and the order a request tries them in.

Two rotation modes, chosen per provider:

- ``round-robin`` spreads requests evenly: each request starts one key further on.
- ``sequential`` drains one key until it is limited, then the next: every request starts at the
  first key, and a key cooling down is simply skipped by the router.

Each key has a label (``openai#2``) that names it in route headers, logs and status, so the
secret itself never has to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.providers.settings import ROTATIONS


@dataclass(frozen=True, slots=True)
class Credential:
    """One key of a provider (or no key at all, for a local server that needs none)."""

    provider: str
    label: str
    secret: str | None = field(repr=False)


class KeyPool:
    __slots__ = ("_next", "credentials", "rotation", "secrets")

    def __init__(self, provider: str, secrets: tuple[str, ...], rotation: str = "round-robin") -> None:
        if rotation not in ROTATIONS:
            raise ValueError(f"rotation must be one of {', '.join(ROTATIONS)}")
        if len(secrets) > 1:
            creds = tuple(Credential(provider, f"{provider}#{n}", s) for n, s in enumerate(secrets, 1))
        else:
            creds = (Credential(provider, provider, secrets[0] if secrets else None),)
        self.credentials = creds
        self.secrets = secrets  # every secret of the pool, for masking them in upstream errors
        self.rotation = rotation
        self._next = 0

    def order(self) -> tuple[Credential, ...]:
        """The keys in the order this request should try them."""
        creds = self.credentials
        if self.rotation == "sequential" or len(creds) == 1:
            return creds
        start = self._next % len(creds)
        self._next = start + 1
        return creds[start:] + creds[:start]

    def pick(self) -> str | None:
        """One key for a side request (a model list), in turn with the others."""
        return self.order()[0].secret
