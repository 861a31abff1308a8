"""What the router reads from a request to choose for it: how long it is, what the newest user
turn says, whether it carries tools or images, what output it asks for."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.chat import ChatRequest, ImagePart, TextPart, ToolResult

MAX_SCANNED = 8000  # characters of the newest user turn read for cues: enough, and fast


@dataclass(frozen=True, slots=True)
class Traits:
    text: str  # the newest user turn's text, cut to MAX_SCANNED
    chars: int  # every character of the prompt: system, messages, tool schemas
    messages: int
    tools: bool
    images: bool
    size: int  # bytes of the request body
    max_tokens: int | None = None
    reasoning: bool = False  # the client asked for reasoning effort or a thinking budget

    @property
    def prompt_tokens(self) -> int:
        """A quick, generous estimate (about four characters a token, plus framing)."""
        return self.chars // 4 + 4 * self.messages


def traits_of(request: ChatRequest, size: int) -> Traits:
    chars = sum(len(p.text) for p in request.system)
    images = False
    last_user = ""
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, TextPart):
                chars += len(part.text)
            elif isinstance(part, ImagePart):
                images = True
            elif isinstance(part, ToolResult):
                chars += sum(len(c.text) for c in part.content if isinstance(c, TextPart))
            else:
                chars += len(getattr(part, "arguments", "") or getattr(part, "text", ""))
        if message.role == "user":
            texts = [p.text for p in message.parts if isinstance(p, TextPart)]
            if texts:
                last_user = "\n".join(texts)
    for tool in request.tools:
        chars += len(tool.name) + len(tool.description) + 100  # the schema, roughly
    return Traits(
        text=last_user[-MAX_SCANNED:],
        chars=chars,
        messages=len(request.messages),
        tools=bool(request.tools),
        images=images,
        size=size,
        max_tokens=request.max_tokens,
        reasoning=request.reasoning_effort in ("medium", "high") or bool(request.reasoning_budget),
    )
