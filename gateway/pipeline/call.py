"""One chat request on its way through the pipeline.

A ``Call`` holds what every step asks of the request: the client's checked call, the session it
belongs to, its canonical form and its prompt's token count. The canonical form is decoded once,
on first need — routing's traits, a translation for the upstream, a token count, a header that
depends on the conversation — and every route tried shares it (DESIGN.md: a request is parsed
once). What happens to the request on its way (who asks, attempts, timings) is its ``Tally``,
kept beside it by the accountant; a dry run (``decide``) has a Call and no tally.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from gateway.core.chat import ChatRequest
from gateway.errors import InvalidRequest
from gateway.formats.common import jsonbody
from gateway.formats.common.conversation import conversation_key
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.common.output_limit import output_limit
from gateway.formats.interfaces import ClientCall
from gateway.pipeline.tokens import count_async
from gateway.routing.preference import Prefer
from gateway.routing.traits import Traits, traits_of


class Call:
    # Nothing here refers back to the Call (no bound method of its own, no exception whose
    # traceback holds its frames): a cycle would keep each request's body until a full collection.
    __slots__ = ("_canonical", "_prompt", "_unreadable", "caller", "client", "prefer", "session")

    def __init__(
        self, client: ClientCall, session: str | None = None, caller: str = "local", prefer: Prefer | None = None
    ) -> None:
        """``session``: the client's session id, when it sent one, and ``caller``, who asks: both
        name the conversation (affinity); ``prefer``: fast or local routes first (its header)."""
        self.client = client
        self.session = session
        self.caller = caller
        self.prefer = prefer
        self._canonical: ChatRequest | None = None
        self._unreadable: tuple[str, str | None] | None = None  # why it has no canonical form
        self._prompt: asyncio.Future[int] | None = None

    def canonical(self) -> ChatRequest:
        """The request in canonical form. Raises ``BodyError`` (every time asked) when it is one
        only its own protocol can carry: then it can still pass through, but not be translated."""
        if self._canonical is None:
            if self._unreadable is not None:
                raise BodyError(*self._unreadable)
            try:
                self._canonical = self.client.canonical()
            except BodyError as exc:
                self._unreadable = (exc.message, exc.param)
                raise
        return self._canonical

    def prompt_tokens(self) -> asyncio.Future[int]:
        """The prompt's tokens, counted off the loop once, from the first ask; whoever asks after
        waits for the same count. Raises ``BodyError`` when there is no canonical form to count."""
        if self._prompt is None:
            self._prompt = asyncio.ensure_future(count_async(self.canonical()))
        return self._prompt

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
        """The key that keeps a conversation on the account holding its prompt cache: one
        caller's, for the model it asked for, so another's (or another name's) opening "Hi" is not
        sent where this one went."""
        return f"{self.caller}\x00{self.client.model}\x00{conversation_key(self.client.body, self.session)}"

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
