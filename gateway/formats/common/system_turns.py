"""Instructions given mid-conversation (a ``system`` turn in canonical form): read from a
protocol's system/developer message where it stands, written back as the upstream's own."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.core.chat import Message, TextPart


def system_text(message: Message) -> str:
    return "\n\n".join(p.text for p in message.parts if isinstance(p, TextPart) and p.text)


def place_system(system: list[TextPart], turns: list[Message], parts: Iterable[TextPart]) -> None:
    """Instructions before the first turn join the system prompt; later ones stay in place."""
    if turns:
        turns.append(Message("system", tuple(parts)))
    else:
        system.extend(parts)
