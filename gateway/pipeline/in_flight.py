"""A count of the requests being answered now, shared by the HTTP entry and the admin door."""

from __future__ import annotations


class InFlight:
    """How many requests are being answered now (streams until their last byte): an update is
    installed only when none is."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0
