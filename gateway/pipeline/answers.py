"""One route's answer to a call, as the accountant counts it: from the usage the upstream
reported, else from the call's canonical form and what the model wrote, read back here only then.

A whole answer is counted at once. A stream's answer (``StreamAnswer``) goes with its
``StreamReply``, which asks it, once the upstream's stream has ended, for what goes out after the
end (``end``) and to count it (``counted``). Each answer holds the request's objects (the call,
its tally, where it was served) and nothing of the request holds the answer, nor a bound method of
it: ownership is a tree, so a request is freed as soon as it is done, without waiting for a
collection of cycles.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from gateway.core.chat import ChatRequest, ChatResponse
from gateway.core.usage import Usage
from gateway.formats import openai_chat
from gateway.formats.common.answer_text import answer_text, stream_text
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.interfaces import Relay
from gateway.formats.translation import Translation
from gateway.pipeline import tokens
from gateway.pipeline.accounting import Accountant, Served, Tally
from gateway.pipeline.call import Call
from gateway.providers.base import Dialect


class Answer(ABC):
    """What an answer is counted from when its upstream did not report the usage."""

    __slots__ = ("_call",)

    def __init__(self, call: Call) -> None:
        self._call = call

    def request(self) -> ChatRequest:
        """The call's canonical form (decoded once for the request); raises ``BodyError`` when
        it has none."""
        return self._call.canonical()

    @abstractmethod
    def output(self) -> str:
        """What the model wrote: its text, reasoning and tool arguments."""


class PassedAnswer(Answer):
    """An upstream's whole answer passed through as it came: decoded only to be counted."""

    __slots__ = ("_body", "_dialect")

    def __init__(self, call: Call, dialect: Dialect, body: bytes) -> None:
        super().__init__(call)
        self._dialect = dialect
        self._body = body

    def output(self) -> str:
        return answer_text(self._dialect.decode_response(self._body))


class DecodedAnswer(Answer):
    """A whole answer translated for the client through the canonical form."""

    __slots__ = ("_answer",)

    def __init__(self, call: Call, answer: ChatResponse) -> None:
        super().__init__(call)
        self._answer = answer

    def output(self) -> str:
        return answer_text(self._answer)


class StreamAnswer(Answer):
    """A stream's answer, counted once by its ``StreamReply`` when the stream ends (or breaks off,
    or is closed)."""

    __slots__ = ("_accountant", "_served", "_tally", "kept")

    def __init__(self, call: Call, accountant: Accountant, tally: Tally, served: Served) -> None:
        super().__init__(call)
        self._accountant = accountant
        self._tally = tally
        self._served = served
        self.kept: list[bytes] | None = None  # what is relayed, when the output is read back from it

    def counted(self, relay: Relay) -> None:
        """Count the answer with the usage the stream reported, if any, and how it ended."""
        self._accountant.count(self._tally, self._served, relay.usage, self, _broken(relay))

    async def end(self, relay: Relay) -> bytes:
        """What goes out after the upstream's proper end: nothing, unless the relay held it back."""
        return b""


class RelayedAnswer(StreamAnswer):
    """A stream passed through as it came: its output read back from what was relayed (kept).

    Of the protocols, only Chat streams can end without the usage their client asked for
    (llama-cpp-python's server never sends it): their relay (``held``) holds the end back, and
    the end goes out after the usage counted here as the accountant counts what an upstream did
    not report. The relay takes the count as the stream's usage, so the ledger records it as it
    is (estimated), not counted twice."""

    __slots__ = ("_dialect", "_held")

    def __init__(
        self,
        call: Call,
        accountant: Accountant,
        tally: Tally,
        served: Served,
        dialect: Dialect,
        held: openai_chat.StreamRelay | None,
    ) -> None:
        super().__init__(call, accountant, tally, served)
        self._dialect = dialect
        self._held = held
        self.kept = []

    def output(self) -> str:
        return stream_text(self._dialect.stream_decoder(), self.kept or ())

    async def end(self, relay: Relay) -> bytes:
        held = self._held
        if held is None or not held.owes_usage:
            return b""
        call = self._call
        try:
            prompt = await call.prompt_tokens()
            usage: Usage | None = Usage(
                prompt, await tokens.count_text_async(self.output(), call.client.model), estimated=True
            )
        except (BodyError, OSError, ValueError):
            usage = None  # not countable here (as the accountant finds too): the end goes out alone
        return held.end(usage)


class TranslatedAnswer(StreamAnswer):
    """A stream translated for the client: its output is what the translation saw written."""

    __slots__ = ("_translation",)

    def __init__(
        self, call: Call, accountant: Accountant, tally: Tally, served: Served, translation: Translation
    ) -> None:
        super().__init__(call, accountant, tally, served)
        self._translation = translation

    def output(self) -> str:
        return "".join(self._translation.output)


def _broken(relay: Relay) -> str:
    """How a stream ended, for the ledger: "" when whole."""
    if relay.failed:
        return "upstream_stream_error"
    return "" if relay.done else "incomplete"
