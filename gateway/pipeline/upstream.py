"""A chat call on one route, in the dialect chosen for it, and its answer counted.

When the upstream speaks the client's protocol the call takes the passthrough path: the client's
JSON goes upstream with only the model rewritten, and the answer comes back untouched while its
usage is read on the side. Otherwise it goes through the canonical form (the call's, decoded once
for the request): encoded for the upstream, and the answer (or each stream event) decoded and
encoded back. A stream is handed back once the upstream has produced its first real event.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from gateway.core.timing import Timing
from gateway.core.usage import Usage
from gateway.errors import InvalidRequest
from gateway.formats import openai_chat
from gateway.formats.anthropic.checks import MessagesCall
from gateway.formats.common.answer_text import answer_text, stream_text
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.interfaces import ClientCall, Relay, StreamEncoder
from gateway.formats.translation import Translation
from gateway.pipeline import tokens
from gateway.pipeline.accounting import Accountant, Tally
from gateway.pipeline.call import Call
from gateway.pipeline.exchange import Exchange
from gateway.pipeline.routes import served
from gateway.pipeline.stream_reply import StreamReply
from gateway.providers.base import ChatProvider, Dialect
from gateway.routing.router import Candidate

log = logging.getLogger("gateway.pipeline")


class Upstream:
    def __init__(self, exchange: Exchange, accountant: Accountant, timing: Callable[[], Timing]) -> None:
        self._exchange = exchange
        self._accountant = accountant
        self._timing = timing

    async def passthrough(
        self,
        call: Call,
        client: ClientCall,
        provider: ChatProvider,
        dialect: Dialect,
        candidate: Candidate,
        left: float,
        tally: Tally,
    ) -> bytes | StreamReply:
        """``client``: the call as it goes (its output limit fitted to the route's model)."""
        exchange = self._exchange
        accountant = self._accountant
        target = candidate.target
        where = served(candidate)
        request = dialect.passthrough_request(client, target.upstream_model, candidate.cred.secret, call.canonical)
        response = await exchange.send(provider, request, left, candidate.cred)
        if client.stream:
            passthrough = dialect.passthrough_relay(client)
            relay = exchange.tapped(provider, candidate.cred, passthrough)
            kept: list[bytes] = []

            def output() -> str:
                return stream_text(dialect.stream_decoder(), kept)

            def count(done: Relay) -> None:
                accountant.count(tally, where, done.usage, call.canonical, output, _broken(done))

            # Of the protocols, only Chat streams can end without the usage their client asked
            # for (llama-cpp-python's server never sends it): their relay holds the end back.
            end = (
                _counted_usage(passthrough, call.prompt_tokens, output, client.model)
                if isinstance(passthrough, openai_chat.StreamRelay)
                else None
            )
            stream = await exchange.open_stream(provider, dialect, response, target, relay, count, kept, end)
            accountant.first_byte(tally)
            return stream
        body = await exchange.complete(provider, response, dialect)
        try:
            usage = dialect.passthrough_usage(body)
        except ValueError:
            raise exchange.unusable(provider, body) from None
        accountant.first_byte(tally)
        accountant.count(tally, where, usage, call.canonical, lambda: answer_text(dialect.decode_response(body)))
        return body

    async def translated(
        self,
        call: Call,
        client: ClientCall,
        limit: int | None,
        provider: ChatProvider,
        dialect: Dialect,
        candidate: Candidate,
        left: float,
        tally: Tally,
    ) -> bytes | StreamReply:
        """``client``: the call as it goes, with ``limit``, its output limit fitted to the route's
        model, when that differs from the one asked for."""
        exchange = self._exchange
        accountant = self._accountant
        timing = self._timing()
        target = candidate.target
        where = served(candidate)
        canonical = call.checked(limit)
        try:
            request = dialect.translated_request(canonical, target.upstream_model, candidate.cred.secret)
        except BodyError as exc:
            raise InvalidRequest(exc.message, param=exc.param) from None
        if canonical.dropped:
            tally.dropped = canonical.dropped
            log.info(
                "%s: left out for %s, which cannot carry them: %s",
                tally.request_id,
                provider.id,
                ", ".join(canonical.dropped),
            )
        # Of the protocols, only Messages streams state the prompt's size before the answer (a
        # context meter reads it): it is counted while the upstream works.
        counting = call.prompt_tokens() if client.stream and isinstance(client, MessagesCall) else None
        response = await exchange.send(provider, request, left, candidate.cred)
        if client.stream:
            encoder: StreamEncoder
            if isinstance(client, MessagesCall) and counting is not None:
                encoder = client.stream_encoder(timing, await counting)
            else:
                encoder = client.stream_encoder(timing)
            translation = Translation(dialect.stream_decoder(), encoder)

            def count(done: Relay) -> None:
                accountant.count(
                    tally, where, done.usage, lambda: canonical, lambda: "".join(translation.output), _broken(done)
                )

            relay = exchange.tapped(provider, candidate.cred, translation)
            stream = await exchange.open_stream(provider, dialect, response, target, relay, count)
            accountant.first_byte(tally)
            return stream
        body = await exchange.complete(provider, response, dialect)
        try:
            answer = dialect.decode_response(body)
        except ValueError:
            raise exchange.unusable(provider, body) from None
        try:
            encoded = client.encode_answer(answer, timing)
        except BodyError as exc:
            raise InvalidRequest(exc.message, param=exc.param) from None
        accountant.first_byte(tally)
        accountant.count(tally, where, answer.usage, lambda: canonical, lambda: answer_text(answer))
        return encoded


def _counted_usage(
    relay: openai_chat.StreamRelay,
    prompt: Callable[[], Awaitable[int]],
    output: Callable[[], str],
    model: str,
) -> Callable[[], Awaitable[bytes]]:
    """The end of a stream that a relay held back for want of usage, after the usage counted
    here as the accountant counts what an upstream did not report: the prompt, and what was
    relayed. The relay takes the count as the stream's usage, so the ledger records it as it is
    (estimated), not counted twice."""

    async def end() -> bytes:
        if not relay.owes_usage:
            return b""
        try:
            usage: Usage | None = Usage(await prompt(), await tokens.count_text_async(output(), model), estimated=True)
        except (BodyError, OSError, ValueError):
            usage = None  # not countable here (as the accountant finds too): the end goes out alone
        return relay.end(usage)

    return end


def _broken(relay: Relay) -> str:
    """How a stream ended, for the ledger: "" when whole."""
    if relay.failed:
        return "upstream_stream_error"
    return "" if relay.done else "incomplete"
