"""What a request carries to be let in upstream, and where a signed-in account's come from.

An API key is a plain string. A subscription account (ChatGPT/Codex, GitHub Copilot) hands out
an ``Access`` per request instead: its current short-lived token, plus what travels with it — the
account header Codex needs, or the chat address a Copilot token names. The token behind it is
renewed by the account itself (``TokenSource``), never by an adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Access:
    secret: str = field(repr=False)
    base_url: str = ""  # where this account's traffic goes, when not the provider's own address
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request of this account
    account: str = ""  # the account's label: its requests go out by its own proxy, if it has one


Key = str | Access | None  # what a request is authorised with: an API key, an account's access, or nothing


def secret_of(key: Key) -> str | None:
    return key.secret if isinstance(key, Access) else key


class TokenSource(Protocol):
    """A signed-in account, as routing and the pipeline see it."""

    @property
    def label(self) -> str: ...

    @property
    def risk(self) -> str:
        """Why routing through this account may break its provider's terms ("" when it cannot)."""
        ...

    def problem(self) -> str | None:
        """Why the account cannot serve now ("needs_sign_in", "no_access"), or None."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Every token it holds now, for masking them in upstream errors."""
        ...

    async def access(self) -> Access:
        """A token good for the next request, renewed first when it is about to lapse.
        Raises ``UpstreamStatus`` (401) when the account cannot be renewed."""
        ...

    async def renewed(self, stale: Access) -> Access:
        """After the upstream refused ``stale``: a renewed token (one renewal however many
        requests ask at once)."""
        ...
