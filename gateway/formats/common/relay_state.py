"""What every stream relay learns on the way (the ``Relay`` interface's state), in one place."""

from __future__ import annotations

from gateway.core.usage import Usage


class RelayState:
    __slots__ = ("done", "error_payload", "started", "usage")

    def __init__(self) -> None:
        self.usage: Usage | None = None
        self.started = False  # a real event has come (a stream is committed only then)
        self.done = False  # the upstream ended the stream properly
        self.error_payload: bytes | None = None  # the upstream's own in-stream error, relayed as is

    @property
    def failed(self) -> bool:
        return self.error_payload is not None
