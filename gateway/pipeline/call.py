"""One chat request on its way through the pipeline.

A ``Call`` holds what every step asks of the request: the client's checked call, the session it
belongs to, its canonical form and its prompt's token count. The canonical form is decoded once,
on first need — routing's traits, a translation for the upstream, a token count, a header that
depends on the conversation — and every route tried shares it (DESIGN.md: a request is parsed
once). What happens to the request on its way (who asks, attempts, timings) is its ``Tally``,
kept beside it by the accountant; a dry run (``decide``) has a Call and no tally.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.core.chat import ChatRequest
from gateway.errors import InvalidRequest
from gateway.formats.common import jsonbody
from gateway.formats.common.conversation import conversation_key
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.common.output_limit import output_limit
from gateway.formats.interfaces import ClientCall
from gateway.pipeline.tokens import PromptCount
from gateway.routing.traits import Traits, traits_of


class Call:
    __slots__ = ("_canonical", "_unreadable", "client", "prompt", "session")

    def __init__(self, client: ClientCall, session: str | None = None) -> None:
        """``session``: the client's session id, when it sent one (conversation affinity)."""
        self.client = client
        self.session = session
        self._canonical: ChatRequest | None = None
        self._unreadable: BodyError | None = None
        self.prompt = PromptCount(self.canonical)  # the prompt's tokens, counted once when asked

    def canonical(self) -> ChatRequest:
        """The request in canonical form. Raises ``BodyError`` (every time asked) when it is one
        only its own protocol can carry: then it can still pass through, but not be translated."""
        if self._canonical is None:
            if self._unreadable is not None:
                raise BodyError(self._unreadable.message, self._unreadable.param)
            try:
                self._canonical = self.client.canonical()
            except BodyError as exc:
                self._unreadable = exc
                raise
        return self._canonical

    def checked(self, output: int | None = None) -> ChatRequest:
        """The canonical form for a translation, asking for ``output`` tokens at most when given
        (fitted to the route's model); a 400 naming the field when it cannot be had."""
        try:
            request = self.canonical()
        except BodyError as exc:
            raise InvalidRequest(exc.message, param=exc.param) from None
        return request if output is None else replace(request, max_tokens=output)

    def traits(self) -> Traits:
        """What routing weighs to choose among routes."""
        return traits_of(self.checked(), self.size())

    def conversation(self) -> str:
        """The key that keeps a conversation on the account holding its prompt cache."""
        return conversation_key(self.client.body, self.session)

    def size(self) -> int:
        return size_of(self.client)


def size_of(client: ClientCall) -> int:
    """A request's size in bytes, as the client sent it."""
    source = client.source
    return len(source.raw) if source is not None else len(jsonbody.encode(client.body))


def estimate(client: ClientCall) -> int:
    """Tokens to reserve against the caller's limits before the real count is known: the body
    at about four bytes a token, plus the answer's limit (up to 4096; the rest settles after)."""
    return size_of(client) // 4 + min(output_limit(client) or 1024, 4096)
