"""A chat call on one route, in the dialect chosen for it, and its answer counted.

When the upstream speaks the client's protocol the call takes the passthrough path: the client's
JSON goes upstream with only the model rewritten, and the answer comes back untouched while its
usage is read on the side. Otherwise it goes through the canonical form (the call's, decoded once
for the request): encoded for the upstream, and the answer (or each stream event) decoded and
encoded back. A stream is handed back once the upstream has produced its first real event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gateway.core.timing import Timing
from gateway.errors import InvalidRequest
from gateway.formats import openai_chat
from gateway.formats.anthropic.checks import MessagesCall
from gateway.formats.common.effort_suffix import Fit
from gateway.formats.common.jsonbody import BodyError
from gateway.formats.interfaces import ClientCall, StreamEncoder
from gateway.formats.translation import Translation
from gateway.pipeline.accounting import Accountant, Tally, served
from gateway.pipeline.answers import DecodedAnswer, PassedAnswer, RelayedAnswer, TranslatedAnswer
from gateway.pipeline.call import Call
from gateway.pipeline.exchange import Exchange
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
        request = dialect.passthrough_request(client, target.upstream_model, candidate.cred.secret, call.canonical)
        response = await exchange.send(provider, request, left, candidate.cred)
        if client.stream:
            passthrough = dialect.passthrough_relay(client)
            relay = exchange.tapped(provider, candidate.cred, passthrough)
            # Only Chat streams can end without the usage their client asked for: their relay
            # holds the end back, for the answer to send after its own count.
            held = passthrough if isinstance(passthrough, openai_chat.StreamRelay) else None
            answer = RelayedAnswer(call, accountant, tally, served(candidate), dialect, held)
            stream = await exchange.open_stream(provider, dialect, response, target, relay, answer)
            accountant.first_byte(tally)
            return stream
        body = await exchange.complete(provider, response, dialect)
        try:
            usage = dialect.passthrough_usage(body)
        except ValueError:
            raise exchange.unusable(provider, body) from None
        accountant.first_byte(tally)
        accountant.count(tally, served(candidate), usage, PassedAnswer(call, dialect, body))
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
        fit: Fit | None = None,
    ) -> bytes | StreamReply:
        """``client``: the call as it goes, with ``limit``, its output limit fitted to the route's
        model, when that differs from the one asked for; ``fit``: the reasoning the model takes."""
        exchange = self._exchange
        accountant = self._accountant
        timing = self._timing()
        target = candidate.target
        canonical = call.checked(limit) if fit is None else fit.request(call.checked(limit))
        try:
            request = dialect.translated_request(canonical, target.upstream_model, candidate.cred.secret)
        except BodyError as exc:
            raise InvalidRequest(exc.message, param=exc.param) from None
        if canonical.dropped:
            tally.dropped = (*tally.dropped, *canonical.dropped)
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
            relay = exchange.tapped(provider, candidate.cred, translation)
            answer = TranslatedAnswer(call, accountant, tally, served(candidate), translation)
            stream = await exchange.open_stream(provider, dialect, response, target, relay, answer)
            accountant.first_byte(tally)
            return stream
        body = await exchange.complete(provider, response, dialect)
        try:
            decoded = dialect.decode_response(body)
        except ValueError:
            raise exchange.unusable(provider, body) from None
        try:
            encoded = client.encode_answer(decoded, timing)
        except BodyError as exc:
            raise InvalidRequest(exc.message, param=exc.param) from None
        accountant.first_byte(tally)
        accountant.count(tally, served(candidate), decoded.usage, DecodedAnswer(call, decoded))
        return encoded
