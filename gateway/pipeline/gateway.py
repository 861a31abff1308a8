"""The gateway's request pipeline behind the HTTP surface: route, attempt, respond, count.

The API layer hands in a checked call in the client's protocol and gets back the bytes of a
complete answer or a ``StreamReply`` (an async iterator of bytes in the client's protocol).
When the upstream speaks the client's protocol the request takes the passthrough path: the
client's JSON goes upstream with only the model rewritten, and the answer comes back untouched.
Otherwise it goes through the canonical form: decoded, encoded for the upstream, and the answer
(or each stream event) decoded and encoded back.

The requested name becomes a plan of candidate routes (``gateway.routing``); they are tried in
turn, and a retryable failure before the first byte moves on to the next. Anything that still goes
wrong before the first byte is raised as a ``GatewayError`` so the API can answer with a proper
status; a stream starts only once the upstream has produced its first real event. Every answer's
request is admitted against its caller's limits first, and its outcome — usage, route, status,
timings, failed attempts — goes to the accountant (``gateway.accounting``).

A provider's server that turns out to lack a protocol's endpoint is sent the same request at once
in the next protocol it speaks (``gateway.routing.spoken``); a native Ollama is asked for a context
window that holds each request (``gateway.routing.context_windows``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from gateway.auth.callers import LOCAL, Caller
from gateway.clock import Clock
from gateway.core.models import GATEWAY, ModelEntry, ModelFacts, Target
from gateway.core.timing import Timing
from gateway.core.usage import Usage, UsageTotals
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    ModelNotFound,
    UpstreamBadResponse,
    UpstreamStatus,
)
from gateway.formats import openai_chat
from gateway.formats.anthropic.checks import MessagesCall
from gateway.formats.common import jsonbody
from gateway.formats.common.answer_text import answer_text, stream_text
from gateway.formats.common.conversation import conversation_key
from gateway.formats.common.jsonbody import BodyError, MalformedEvent
from gateway.formats.common.output_limit import output_limit, with_output_limit
from gateway.formats.interfaces import ClientCall, Relay, StreamEncoder
from gateway.formats.ollama.window import asked_window, configured_window, needed
from gateway.formats.openai import embeddings as openai_embeddings
from gateway.formats.translation import Translation
from gateway.pipeline import tokens
from gateway.pipeline.accounting import CACHE, Accountant, Served, Tally
from gateway.pipeline.stream_reply import CachedStream, Reply, StreamReply, malformed
from gateway.providers.access import TokenSource
from gateway.providers.base import ChatProvider, Collector, Dialect
from gateway.providers.messages import Messages
from gateway.providers.ollama import OllamaProvider
from gateway.providers.ollama_chat import OllamaChat
from gateway.providers.openai_compatible import OpenAICompatible
from gateway.providers.quota_tap import QuotaTap
from gateway.redact import mask_key
from gateway.routing.context_windows import ContextWindows
from gateway.routing.failover import Routed, first_success, with_access
from gateway.routing.model_index import ModelIndex
from gateway.routing.model_sync import ModelSync
from gateway.routing.pool import Credential, KeyPool
from gateway.routing.quota import QuotaBook
from gateway.routing.receipt import receipt
from gateway.routing.response_cache import ResponseCache
from gateway.routing.router import AUTO, Candidate, Plan, Router
from gateway.routing.spoken import Spoken
from gateway.routing.traits import traits_of
from gateway.transport import Timeouts, Transport, UpstreamRequest, UpstreamResponse

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_ERROR_BYTES = 1024 * 1024
KEEP_ALIVE = 300.0  # seconds a model counts as running after use, as Ollama's default keep_alive
REASONING_ALLOWANCE = 4096  # output tokens added for a model that thinks out of its answer's budget
ROUTE_WAIT = 5.0  # how long an unknown bare name may wait for model lists still loading
FAILING_KEPT = 50  # models remembered as failing, for status and notifications

log = logging.getLogger("gateway.pipeline.gateway")
T = TypeVar("T")
C = TypeVar("C", bound=ClientCall)


def _checked(make: Callable[[], T]) -> T:
    """A translation step that can find the request untranslatable: a 400 naming the field."""
    try:
        return make()
    except BodyError as exc:
        raise InvalidRequest(exc.message, param=exc.param) from None


class Gateway:
    def __init__(
        self,
        providers: Sequence[ChatProvider],
        transport: Transport,
        clock: Clock,
        index: ModelIndex,
        sync: ModelSync,
        pools: Mapping[str, KeyPool],
        router: Router,
        deadline: float,
        cache: ResponseCache,
        accountant: Accountant,
        quotas: QuotaBook,
        spoken: Spoken,
    ) -> None:
        self._providers = {p.id: p for p in providers}
        self._transport = transport
        self._clock = clock
        self._index = index
        self.sync = sync
        self._pools = pools
        self.router = router
        self._deadline = deadline
        self.cache = cache
        self.accounting = accountant
        self.quotas = quotas
        self.spoken = spoken
        self._windows = ContextWindows(clock.monotonic, KEEP_ALIVE)
        self._last_used: dict[str, float] = {}  # model name asked for -> when it last served (monotonic)
        self._failing: dict[str, dict[str, Any]] = {}  # model names whose every route failed last time

    @property
    def totals(self) -> UsageTotals:
        return self.accounting.totals

    @property
    def providers(self) -> list[ChatProvider]:
        return list(self._providers.values())

    # --- models -----------------------------------------------------------------------------

    async def models(self) -> list[ModelEntry]:
        """Every model of every provider, then the gateway's own names (aliases, ``auto``) that
        lead somewhere."""
        await self.sync.wait_ready(ROUTE_WAIT)
        own = [ModelEntry(GATEWAY, name) for name in (*self.router.aliases, AUTO) if self.router.targets(name)]
        return self._index.entries() + own

    async def model(self, model_id: str) -> ModelEntry:
        await self.sync.wait_ready(ROUTE_WAIT)
        entry = self._index.get(model_id)
        if entry is None and (model_id == AUTO or model_id in self.router.aliases) and self.router.targets(model_id):
            entry = ModelEntry(GATEWAY, model_id)
        if entry is None:
            raise _not_found(model_id)
        return entry

    def facts(self, entry: ModelEntry) -> ModelFacts:
        """What is known of a listed model (for an alias or ``auto``: of its first route)."""
        targets = self.router.targets(entry.upstream_id) if entry.provider == GATEWAY else ()
        target = targets[0] if targets else Target(entry.provider, entry.upstream_id)
        return self.router.capabilities.of(target)

    async def model_facts(self, name: str) -> tuple[ModelEntry, ModelFacts]:
        """A model as the gateway lists it, with what is known of it."""
        target = (await self._targets(name))[0]
        entry = self._index.get(f"{target.provider}/{target.upstream_model}") or ModelEntry(
            target.provider, target.upstream_model
        )
        return entry, self.router.capabilities.of(target)

    async def upstream_show(self, name: str, request_id: str) -> bytes | None:
        """An Ollama upstream's own /api/show document for a model it serves; None for models
        of other providers (their facts come from ``model_facts``)."""
        target = (await self._targets(name))[0]
        provider = self._providers[target.provider]
        if not isinstance(provider, OllamaProvider):
            return None

        async def show(candidate: Candidate, left: float) -> bytes:
            document = await self._show(provider, candidate, request_id, left)
            self._windows.shown(candidate.target, document)
            return document

        return (await self._routed(name, [target], request_id, show)).value

    def running(self) -> list[tuple[ModelEntry, float]]:
        """Models that served a request within the last ``KEEP_ALIVE`` seconds, with the wall
        time their keep-alive ends: what Ollama calls loaded."""
        now, wall = self._clock.monotonic(), self._clock.time()
        latest: dict[str, tuple[ModelEntry, float]] = {}  # one model may be asked for by several names
        for name, used in list(self._last_used.items()):
            target = self._index.resolve(name)
            if now - used > KEEP_ALIVE or target is None:
                del self._last_used[name]
                continue
            entry = self._index.get(f"{target.provider}/{target.upstream_model}")
            if entry is not None and (entry.id not in latest or latest[entry.id][1] < used):
                latest[entry.id] = (entry, used)
        return [(entry, wall + KEEP_ALIVE - (now - used)) for entry, used in latest.values()]

    async def _targets(self, name: str) -> tuple[Target, ...]:
        # Just after start, wait (briefly) for the first round of model lists: a bare name's
        # fallbacks are the other providers that list it.
        if not self.sync.ready:
            await self.sync.wait_ready(ROUTE_WAIT)
        targets = self.router.targets(name)
        if not targets and self.sync.incomplete:
            await self.sync.refresh_missing(ROUTE_WAIT)
            targets = self.router.targets(name)
        if not targets:
            raise _not_found(name)
        return targets

    async def _routed(
        self,
        name: str,
        targets: Sequence[Target],
        request_id: str,
        attempt: Callable[[Candidate, float], Awaitable[T]],
        call: ClientCall | None = None,
        session: str | None = None,
        tally: Tally | None = None,
    ) -> Routed[T]:
        """``attempt`` on each candidate route in turn, until one answers; each failed attempt is
        recorded in the ledger when the request is tallied."""
        plan = self._plan(name, targets, call, session)
        deadline = self._clock.monotonic() + self._deadline

        def moved_on(candidate: Candidate, err: GatewayError) -> None:
            self.accounting.attempt_failed(tally, _served(candidate), err)

        try:
            routed = await first_success(
                plan, with_access(attempt), self.router.health, self._clock, deadline, request_id, moved_on
            )
        except GatewayError as err:
            if plan.candidates and (err.status >= 500 or err.status == 429):  # every route tried failed
                if len(self._failing) >= FAILING_KEPT and name not in self._failing:
                    del self._failing[next(iter(self._failing))]  # the oldest goes: names come from callers
                self._failing[name] = {"model": name, "error": err.message, "at": self._clock.time()}
            raise
        self._failing.pop(name, None)
        if routed.candidate is not None:  # always: only the cache answers without one
            self.router.served(plan, routed.candidate)
        return routed

    def _plan(self, name: str, targets: Sequence[Target], call: ClientCall | None, session: str | None) -> Plan:
        if call is None:
            return self.router.plan(name, targets)
        chat = call
        return self.router.plan(
            name,
            targets,
            lambda: traits_of(_checked(chat.canonical), _size(chat)),
            lambda: conversation_key(chat.body, session),
        )

    async def decide(self, call: ClientCall, session: str | None = None) -> dict[str, Any]:
        """The dry run: the plan a request would get now, as a receipt. Nothing is sent."""
        return receipt(self._plan(call.model, await self._targets(call.model), call, session))

    def _fitted(self, call: C, target: Target) -> C:
        """The call with its output limit fitted to the model: clamped to what one answer may
        have, with room added for models that think out of the same budget."""
        facts = self.router.capabilities.of(target)
        if not facts.output and not facts.reasons:
            return call
        asked = output_limit(call)
        if asked is None:
            return call
        limit = asked + REASONING_ALLOWANCE if facts.reasons else asked
        if facts.output:
            limit = min(limit, facts.output)
        return call if limit == asked else with_output_limit(call, limit)

    def status(self) -> dict[str, Any]:
        """Every provider and key (masked) with its health, breaker, cooldowns, latency and
        success rate; the aliases; the usage counted so far. Nothing secret."""
        health = self.router.health
        providers = []
        for provider in self._providers.values():
            pool = self._pools[provider.id]
            if not pool.credentials:
                continue  # a subscription with no account signed in
            keys = [
                {
                    "label": c.label,
                    "key": mask_key(c.secret) if isinstance(c.secret, str) else None,
                    **health.snapshot(c),
                }
                for c in pool.credentials
            ]
            providers.append(
                {
                    "id": provider.id,
                    "name": provider.settings.name,
                    "rotation": pool.rotation,
                    "breaker": health.breaker_snapshot(provider.id),
                    "keys": keys,
                }
            )
        totals = self.totals
        return {
            "providers": providers,
            "aliases": {name: list(chain) for name, chain in self.router.aliases.items()},
            "failing": list(self._failing.values()),
            "cache": self.cache.stats(),
            "usage": {
                "requests": totals.requests,
                "prompt_tokens": totals.prompt_tokens,
                "completion_tokens": totals.completion_tokens,
                "cached_tokens": totals.cached_tokens,
                "estimated": totals.estimated,
            },
        }

    def serve_accounts(self, provider: str, accounts: Sequence[TokenSource]) -> None:
        """The signed-in accounts a subscription provider serves from now on; its model list is
        asked for again with them."""
        self._pools[provider].set_accounts(provider, accounts)
        self.sync.ask_again(provider)

    def forgive(self, provider: str) -> None:
        """Let a provider serve again at once, whatever rests its keys were given (its Test
        answered)."""
        self.router.health.forgive(provider, (c.label for c in self._pools[provider].credentials))

    def timing(self) -> Timing:
        """Now, for an answer that reports when it began and how long it took."""
        return Timing(int(self._clock.time()), self._clock.monotonic(), self._clock.monotonic)

    # --- attempts ---------------------------------------------------------------------------

    async def _send(
        self, provider: ChatProvider, request: UpstreamRequest, left: float, cred: Credential
    ) -> UpstreamResponse:
        """Send, within the ``left`` seconds of the request's deadline, note the quota windows
        the answer reports for ``cred``, and turn anything but a 2xx into the provider's error
        (the response is closed)."""
        t = request.timeouts
        if left < t.total - 1:  # (within a second of it, the provider's own bound will do)
            request = replace(request, timeouts=Timeouts(t.connect, t.read, left))
        response = await self._transport.send(request)
        if windows := provider.quota(response.headers, self._clock.time()):
            self.quotas.observe(cred.label, provider.id, windows)
        if 200 <= response.status < 300:
            return response
        try:
            if 300 <= response.status < 400:
                raise UpstreamBadResponse(
                    f"provider {provider.id} answered with a redirect (HTTP {response.status}); "
                    "redirects are not followed with credentials",
                    provider=provider.id,
                )
            body = await response.read(MAX_ERROR_BYTES)
            raise provider.error(
                response.status, response.headers, body, self._clock.time(), self._pools[provider.id].secrets
            )
        finally:
            response.close()

    async def _ask(self, provider: ChatProvider, request: UpstreamRequest, left: float, cred: Credential) -> bytes:
        """A request that is not chat: sent, and its whole answer read."""
        return await self._complete(provider, await self._send(provider, request, left, cred))

    async def _show(self, provider: OllamaProvider, candidate: Candidate, request_id: str, left: float) -> bytes:
        """The Ollama server's /api/show document for the candidate's model."""
        request = provider.show_request(candidate.target.upstream_model, candidate.cred.secret, request_id)
        return await self._ask(provider, request, left, candidate.cred)

    async def _complete(
        self, provider: ChatProvider, response: UpstreamResponse, dialect: Dialect | None = None
    ) -> bytes:
        """The whole answer (gathered from the stream, for an upstream that always streams);
        reading it to the end hands the connection back to the pool."""
        try:
            body = await response.read(MAX_RESPONSE_BYTES)
        except BaseException:
            response.close()
            raise
        content_type = response.headers.get("Content-Type", "").lower()
        if "json" in content_type:
            return body
        if isinstance(dialect, Collector) and dialect.stream_type in content_type:
            try:
                return dialect.collect(body)
            except ValueError:
                pass
        raise self._unusable(provider, body)

    def _unusable(self, provider: ChatProvider, body: bytes) -> UpstreamStatus | UpstreamBadResponse:
        """A success status with an error object in the body, or with no usable body at all."""
        embedded = provider.embedded_error(body, self._clock.time(), self._pools[provider.id].secrets)
        return embedded or UpstreamBadResponse(
            f"provider {provider.id} returned unexpected content", provider=provider.id
        )

    async def _open_stream(
        self,
        provider: ChatProvider,
        dialect: Dialect,
        response: UpstreamResponse,
        target: Target,
        relay: Relay,
        on_close: Callable[[Relay], None],
        kept: list[bytes] | None = None,
        end: Callable[[], Awaitable[bytes]] | None = None,
    ) -> StreamReply:
        """Read up to the first real event, so failures before it still get a proper status."""
        try:
            if dialect.stream_type not in response.headers.get("Content-Type", "").lower():
                body = await response.read(MAX_ERROR_BYTES)
                raise self._unusable(provider, body)
            first = b""
            while not relay.started:
                data = await response.read_chunk()
                if not data:
                    raise UpstreamBadResponse(
                        f"provider {provider.id} closed the stream before sending anything",
                        provider=provider.id,
                    )
                try:
                    first += relay.feed(data)
                except MalformedEvent:
                    raise malformed(provider.id) from None
            if relay.error_payload is not None:
                raise self._unusable(provider, relay.error_payload)
        except BaseException:
            response.close()
            raise
        return StreamReply(first, relay, response, target, on_close, kept, end)

    def _tapped(self, provider: ChatProvider, cred: Credential, relay: Relay) -> Relay:
        """The relay, watched for quota events where the upstream sends them in its streams."""
        if not provider.quota_in_streams:
            return relay
        return QuotaTap(
            relay, provider.stream_quota, lambda windows: self.quotas.observe(cred.label, provider.id, windows)
        )

    async def counted(self) -> None:
        """Wait for the counts still being made, so the totals and the ledger are complete."""
        await self.accounting.counted()

    # --- chat -------------------------------------------------------------------------------

    async def chat(
        self, call: ClientCall, request_id: str, session: str | None = None, caller: Caller = LOCAL
    ) -> Routed[bytes | Reply]:
        """``session``: the client's session id, when it sent one (conversation affinity);
        ``caller``: who is asking (their limits apply; the response cache never shares answers
        between callers)."""
        tally = self.accounting.admit(caller, call.protocol, call.model, request_id, lambda: _estimate(call))
        try:
            source = call.source
            cache_key = self.cache.key(
                caller.id, call.protocol, call.body, source.canonical if source is not None else None
            )
            if cache_key is not None and (hit := self.cache.get(cache_key)) is not None:
                self.accounting.first_byte(tally)
                self.accounting.count(tally, CACHE, Usage(0, 0))
                value: bytes | Reply = CachedStream(hit.chunks) if hit.stream else hit.chunks[0]
                return Routed(value, None, 0, hit.route)
            targets = await self._targets(call.model)
            self._last_used[call.model] = self._clock.monotonic()
            prompt = tokens.PromptCount(call.canonical)

            async def attempt(candidate: Candidate, left: float) -> bytes | StreamReply:
                tally.attempts += 1
                provider = self._providers[candidate.target.provider]
                fitted = self._fitted(call, candidate.target)
                return await self._spoken(fitted, provider, candidate, request_id, left, tally, prompt)

            routed: Routed[bytes | Reply] = await self._routed(
                call.model, targets, request_id, attempt, call, session, tally
            )
            if tally.dropped:
                routed = replace(routed, dropped=tally.dropped)
        except GatewayError as err:
            self.accounting.failed(tally, err)
            raise
        if cache_key is not None:
            self._keep(cache_key, routed)
        return routed

    def _keep(self, key: str, routed: Routed[bytes | Reply]) -> None:
        """Put an answer in the response cache: a whole one now, a stream once it completes."""
        route = routed.route
        value = routed.value
        if isinstance(value, bytes):
            self.cache.put(key, (value,), False, route)
        elif isinstance(value, StreamReply):
            value.copy_to(self.cache.largest, lambda pieces: self.cache.put(key, pieces, True, route))

    async def _spoken(
        self,
        call: ClientCall,
        provider: ChatProvider,
        candidate: Candidate,
        request_id: str,
        left: float,
        tally: Tally,
        prompt: tokens.PromptCount,
    ) -> bytes | StreamReply:
        """The call in the protocol the provider speaks for it: the passthrough in the client's
        own, else translated. A server that turns out to lack that protocol's endpoint is sent
        it again at once in the next protocol it speaks, within the same attempt."""
        deadline = self._clock.monotonic() + left
        while True:
            dialect, own = self.spoken.route(provider, call.protocol, candidate.target.upstream_model)
            left = deadline - self._clock.monotonic()
            if isinstance(dialect, OllamaChat) and isinstance(provider, OllamaProvider):
                dialect = dialect.sized(await self._window(call, provider, candidate, request_id, left, prompt))
            try:
                if own:
                    return await self._passthrough(call, provider, dialect, candidate, request_id, left, tally, prompt)
                return await self._translated(call, provider, dialect, candidate, request_id, left, tally, prompt)
            except GatewayError as err:
                if not self.spoken.learn(provider, dialect, err):
                    raise

    async def _window(
        self,
        call: ClientCall,
        provider: OllamaProvider,
        candidate: Candidate,
        request_id: str,
        left: float,
        prompt: tokens.PromptCount,
    ) -> int | None:
        """The context window to ask a native Ollama for (None: the model's own): the one the
        client set, or the config sets for the model, else one that holds the request."""
        model = candidate.target.upstream_model
        fixed = asked_window(call) or configured_window(provider.settings.num_ctx, model)
        if fixed is not None:
            return fixed
        try:
            need = needed(await prompt.count(), output_limit(call))
        except (BodyError, OSError, ValueError):
            return None  # not countable here (a passthrough body the canonical form cannot hold): as it is
        return await self._windows.size(
            candidate.target, need, lambda: self._show(provider, candidate, request_id, left)
        )

    async def _passthrough(
        self,
        call: ClientCall,
        provider: ChatProvider,
        dialect: Dialect,
        candidate: Candidate,
        request_id: str,
        left: float,
        tally: Tally,
        prompt: tokens.PromptCount,
    ) -> bytes | StreamReply:
        target = candidate.target
        served = _served(candidate)
        request = dialect.passthrough_request(call, target.upstream_model, candidate.cred.secret, request_id)
        response = await self._send(provider, request, left, candidate.cred)
        if call.stream:
            passthrough = dialect.passthrough_relay(call)
            relay = self._tapped(provider, candidate.cred, passthrough)
            kept: list[bytes] = []

            def output() -> str:
                return stream_text(dialect.stream_decoder(), kept)

            def count_stream(done: Relay) -> None:
                self.accounting.count(tally, served, done.usage, call.canonical, output, _broken(done))

            # Of the protocols, only Chat streams can end without the usage their client asked
            # for (llama-cpp-python's server never sends it): their relay holds the end back.
            end = (
                _counted_usage(passthrough, prompt, output, call.model)
                if isinstance(passthrough, openai_chat.StreamRelay)
                else None
            )
            stream = await self._open_stream(provider, dialect, response, target, relay, count_stream, kept, end)
            self.accounting.first_byte(tally)
            return stream
        body = await self._complete(provider, response, dialect)
        try:
            usage = dialect.passthrough_usage(body)
        except ValueError:
            raise self._unusable(provider, body) from None
        self.accounting.first_byte(tally)
        self.accounting.count(tally, served, usage, call.canonical, lambda: answer_text(dialect.decode_response(body)))
        return body

    async def _translated(
        self,
        call: ClientCall,
        provider: ChatProvider,
        dialect: Dialect,
        candidate: Candidate,
        request_id: str,
        left: float,
        tally: Tally,
        prompt: tokens.PromptCount,
    ) -> bytes | StreamReply:
        timing = self.timing()
        target = candidate.target
        served = _served(candidate)
        canonical = _checked(call.canonical)
        request = _checked(
            lambda: dialect.translated_request(canonical, target.upstream_model, candidate.cred.secret, request_id)
        )
        if canonical.dropped:
            tally.dropped = canonical.dropped
            log.info(
                "%s: left out for %s, which cannot carry them: %s",
                request_id,
                provider.id,
                ", ".join(canonical.dropped),
            )
        # Of the protocols, only Messages streams state the prompt's size before the answer (a
        # context meter reads it): it is counted while the upstream works.
        counting = prompt.count() if call.stream and isinstance(call, MessagesCall) else None
        response = await self._send(provider, request, left, candidate.cred)
        if call.stream:
            encoder: StreamEncoder
            if isinstance(call, MessagesCall) and counting is not None:
                encoder = call.stream_encoder(timing, await counting)
            else:
                encoder = call.stream_encoder(timing)
            translation = Translation(dialect.stream_decoder(), encoder)

            def count(done: Relay) -> None:
                self.accounting.count(
                    tally, served, done.usage, lambda: canonical, lambda: "".join(translation.output), _broken(done)
                )

            relay = self._tapped(provider, candidate.cred, translation)
            stream = await self._open_stream(provider, dialect, response, target, relay, count)
            self.accounting.first_byte(tally)
            return stream
        body = await self._complete(provider, response, dialect)
        try:
            answer = dialect.decode_response(body)
        except ValueError:
            raise self._unusable(provider, body) from None
        encoded = _checked(lambda: call.encode_answer(answer, timing))
        self.accounting.first_byte(tally)
        self.accounting.count(tally, served, answer.usage, lambda: canonical, lambda: answer_text(answer))
        return encoded

    async def count_tokens(self, call: MessagesCall, request_id: str) -> bytes:
        """Anthropic's count_tokens: asked of an Anthropic upstream, counted here for any other."""
        targets = await self._targets(call.model)
        provider = self._providers[targets[0].provider]
        messages = provider.dialects.get(call.protocol)
        if not isinstance(messages, Messages):
            return jsonbody.encode({"input_tokens": await tokens.count_async(_checked(call.canonical))})

        async def count(candidate: Candidate, left: float) -> bytes:
            request = messages.count_tokens_request(
                call, candidate.target.upstream_model, candidate.cred.secret, request_id
            )
            return await self._ask(provider, request, left, candidate.cred)

        return (await self._routed(call.model, targets[:1], request_id, count)).value

    # --- embeddings -------------------------------------------------------------------------

    async def embeddings(
        self,
        call: openai_embeddings.EmbeddingCall,
        request_id: str,
        render: Callable[[bytes], bytes] | None = None,
        caller: Caller = LOCAL,
        protocol: str = "openai-embeddings",
    ) -> Routed[bytes]:
        """The upstream's answer in OpenAI's shape, or as ``render`` makes it from that (which
        raises ValueError when it cannot)."""
        tally = self.accounting.admit(
            caller, protocol, call.model, request_id, lambda: len(jsonbody.encode(call.body)) // 4
        )
        try:
            return await self._embed(call, request_id, render, tally)
        except GatewayError as err:
            self.accounting.failed(tally, err)
            raise

    async def _embed(
        self,
        call: openai_embeddings.EmbeddingCall,
        request_id: str,
        render: Callable[[bytes], bytes] | None,
        tally: Tally,
    ) -> Routed[bytes]:
        targets = await self._targets(call.model)
        self._last_used[call.model] = self._clock.monotonic()

        async def embed(candidate: Candidate, left: float) -> bytes:
            tally.attempts += 1
            provider = self._providers[candidate.target.provider]
            if not isinstance(provider, OpenAICompatible | OllamaProvider):
                raise InvalidRequest(
                    f"The model '{call.model}' is served by provider {provider.id}, which has no embeddings endpoint.",
                    param="model",
                )
            request = provider.embeddings_request(
                call, candidate.target.upstream_model, candidate.cred.secret, request_id
            )
            body = await self._ask(provider, request, left, candidate.cred)
            try:
                body, usage = openai_embeddings.finish_response(call, body)
                if render is not None:
                    body = render(body)
            except ValueError:
                raise self._unusable(provider, body) from None
            self.accounting.first_byte(tally)
            self.accounting.count(tally, _served(candidate), usage)
            return body

        return await self._routed(call.model, targets, request_id, embed, tally=tally)


def _served(candidate: Candidate) -> Served:
    target = candidate.target
    return Served(target.provider, candidate.cred.label, target.upstream_model)


def _counted_usage(
    relay: openai_chat.StreamRelay, prompt: tokens.PromptCount, output: Callable[[], str], model: str
) -> Callable[[], Awaitable[bytes]]:
    """The end of a stream that a relay held back for want of usage, after the usage counted
    here as the accountant counts what an upstream did not report: the prompt, and what was
    relayed. The relay takes the count as the stream's usage, so the ledger records it as it is
    (estimated), not counted twice."""

    async def end() -> bytes:
        if not relay.owes_usage:
            return b""
        try:
            usage: Usage | None = Usage(
                await prompt.count(), await tokens.count_text_async(output(), model), estimated=True
            )
        except (BodyError, OSError, ValueError):
            usage = None  # not countable here (as the accountant finds too): the end goes out alone
        return relay.end(usage)

    return end


def _broken(relay: Relay) -> str:
    """How a stream ended, for the ledger: "" when whole."""
    if relay.failed:
        return "upstream_stream_error"
    return "" if relay.done else "incomplete"


def _estimate(call: ClientCall) -> int:
    """Tokens to reserve against the caller's limits before the real count is known: the body
    at about four bytes a token, plus the answer's limit (up to 4096; the rest settles after)."""
    return _size(call) // 4 + min(output_limit(call) or 1024, 4096)


def _size(call: ClientCall) -> int:
    source = call.source
    return len(source.raw) if source is not None else len(jsonbody.encode(call.body))


def _not_found(name: str) -> ModelNotFound:
    return ModelNotFound(
        f"The model '{name}' does not exist or is not served by any configured provider. "
        "GET /v1/models lists the models available.",
        param="model",
    )
