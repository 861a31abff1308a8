"""Runs the gateway: bind, serve, apply new settings live, drain gracefully on stop.

``GatewayServer`` is what the headless CLI and the tray app's gateway thread both drive:
``start()`` opens the state (database, keys, secrets), binds (or raises ``ListenError`` with a
one-line reason); ``reconfigure()`` reads the settings again as a start does, builds a new pipeline
beside the one serving and swaps it in (requests in flight finish on the old one; only a new
address needs a new listening socket, bound before the old closes); ``stop()`` stops accepting,
lets requests in flight finish within the grace period, closes upstream connections and writes
what is still queued for the database.

What a swap keeps (``wiring.Lasting``, ``wiring.Parts``): the database and ledger, the limits'
windows and reservations, metrics and totals, signed-in accounts and their quota windows, client
keys and the failed attempts counted against them, the upstream connection pool, and the health
and model lists of every provider whose settings did not change (cooldowns, benches, breakers;
a provider that is down delays no request after a change), the ports listened on before (a
connection kept alive there is served). A new address, LAN mode or need for client keys is
audited as a start audits it. What it makes anew: adapters, key pools, model index (filled at
once: the lists the database kept, then those the old one held), router, aliases, affinity, the
answer cache, and what the pipeline remembers of its own (the models in use that Ollama's clients
see as running, the models whose every route failed). ``header_timeout_seconds`` and
``shutdown_grace_seconds`` hold until the next start; ``[subscriptions]`` endpoints the accounts
sign in with too, and ``[shared] redis`` (said in the log: the limits' windows live there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from functools import partial
from typing import Unpack

from gateway.admin.control import Control
from gateway.admin.doctor_team import TeamPlaces
from gateway.admin.state import State
from gateway.api.app import Live, create_handler
from gateway.api.guard import Guard
from gateway.api.health import Check, Readiness
from gateway.api.router import Handler, Router
from gateway.auth.identity import Identity
from gateway.config.settings import ServerSettings, Settings
from gateway.errors import ConfigError, Fix, InvalidRequest, fix_of
from gateway.pipeline.accounting import Ledger
from gateway.pipeline.gateway import Gateway
from gateway.routing.quota import QuotaRecord
from gateway.routing.unserved import report_unserved
from gateway.runtime.housekeeping import Housekeeping
from gateway.runtime.joined import Joined, said_at_start
from gateway.runtime.listener import Listener, ListenError
from gateway.runtime.logs import set_level
from gateway.runtime.team_accounts import join_accounts
from gateway.runtime.upstream import follow_network, prepare_network
from gateway.runtime.wiring import ServerOptions, build_gateway, carry_over, compose, restore
from gateway.store import accounts as account_rows
from gateway.store.db import StoreError
from gateway.store.secrets import described, encrypting_hint
from gateway.store.team import open_team_store
from gateway.transport.addresses import is_loopback, names_of

__all__ = ["GatewayServer", "ListenError"]

log = logging.getLogger("gateway")


class GatewayServer:
    def __init__(self, settings: Settings, **options: Unpack[ServerOptions]) -> None:
        """``options``: what ``wiring.ServerOptions`` lists."""
        self.settings = settings
        self._parts = parts = compose(settings, options)
        self._admin_token = options.get("admin_token")
        self._admin_password = options.get("admin_password")
        self._settings_file = options.get("settings_file")
        self._folder_lock = options.get("folder_lock")
        self._reload = options.get("reload")
        self._environ = options.get("environ") or os.environ
        self._team: Joined | None = None  # [store] url's database, joined at start on the event loop
        self.state: State | None = parts.state
        self.accounts = parts.accounts
        self.flows = parts.flows
        self.gateway: Gateway = build_gateway(settings, parts.transport, parts.clock, parts.ids, parts.lasting)
        if self.accounts is not None:
            self.accounts.changed.append(self._serve_accounts)
        self.identity: Identity | None = None
        self.control: Control | None = None  # what an administrator can do, once started
        self._live: Live | None = None  # the HTTP surface serving, once started
        self._listener: Listener | None = None
        self._names: tuple[str, ...] = ()  # how callers beyond loopback name it (``addresses.names_of``)
        self._ports: tuple[int, ...] = ()  # every port listened on since the start: kept-alive callers name them
        self._sync: asyncio.Task[None] | None = None
        self._housekeeping: Housekeeping | None = None
        self._chores: asyncio.Task[None] | None = None
        self._applying = asyncio.Lock()  # one settings change at a time
        self.on_applied: list[Callable[[], None]] = []  # told on the loop after each change applied live
        self.port: int | None = None
        self.readiness = Readiness(self._ready_checks())

    @property
    def url(self) -> str:
        host = self.settings.server.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def routes(self) -> Router | None:
        """Every route served, once started."""
        return self._live.routes if self._live is not None else None

    def _ready_checks(self) -> dict[str, Check]:
        """What ``/health/ready`` asks: the database reads (the team's PostgreSQL when it is the
        store), and team mode's Redis answers."""
        checks: dict[str, Check] = {}
        if (state := self.state) is not None:

            async def database() -> bool:
                if self._team is not None:
                    return await self._team.store.answers()
                return bool(await state.db.read(lambda conn: conn.execute("SELECT 1").fetchone()))

            checks["database"] = database
        if (team := self._parts.lasting.team) is not None:
            checks["redis"] = team.answers
        return checks

    async def drain(self, seconds: float) -> None:
        """The start of a stop behind a load balancer: ``/health/ready`` answers 503 from now on,
        and for ``seconds`` everything is still served, so the balancer sees it and sends new
        requests elsewhere before this gateway stops listening (``stop`` then lets those in flight finish)."""
        self.readiness.draining = True
        if seconds > 0:
            await asyncio.sleep(seconds)

    async def start(self) -> None:
        server, state = self.settings.server, self.state
        try:
            self._open_state()
            await self._join_team()
            await self._read_kept()
            if problem := _open_without_keys(self.settings, self.state):
                raise ListenError(problem, fix=Fix("add_client_key"))
        except ListenError:
            await self._leave_team()
            if state is not None:
                await asyncio.to_thread(state.close)
                self.state = None
            raise
        apply = self.reconfigure if self._reload is not None else None  # none: edits apply at the next start
        team = self._team.store if self._team else None  # with one, usage and the audit log are read from it
        self.control = Control(
            *(self.gateway, state, self.identity, self.flows, self._settings_file),
            apply=apply,
            ledger=team.ledger if team else None,
            audit=team.audit if team else None,
            team=TeamPlaces.of(self.settings, state.secrets, self._environ) if state is not None else None,
        )
        guard, handler, routes = self._surface(self.settings, self.gateway)
        self._live = Live(handler, routes)
        self._listener = Listener(self._live, server, self._parts.loopback)
        self.port = await self._listener.open(server.host, server.port)
        self._names = await _names_of(server.host)
        self._ports = (self.port,)
        guard.listening_on(self.port, self._names)
        self._sync = asyncio.create_task(_model_sync(self.gateway), name="model-sync")
        if (redis := self._parts.lasting.team) is not None:
            redis.share_rests(self._parts.lasting.health)
        if state is not None:
            lan = not is_loopback(server.host)
            with said_at_start():  # in a team's chain, which may be gone since the join: its callers stop it
                await state.started(server.host, server.port, server.require_keys, lan, self.settings.config_file)
            if state.secrets.kind in ("file", "memory"):  # S31: never silent about where secrets went
                where = described(state.secrets.kind, state.secrets.where)
                log.warning("secrets are kept in %s%s", where, encrypting_hint(state.secrets.kind))
            assert self.identity is not None
            accountant = self._parts.lasting.accountant
            self._housekeeping = Housekeeping(state, self.accounts, self.identity, accountant, self._parts.clock)
            self._chores = asyncio.create_task(self._housekeeping.run(), name="housekeeping")

    def _open_state(self) -> None:
        server, state = self.settings.server, self.state
        if state is not None:
            try:
                state.open()
                state.db.keep_journal()  # this process serves the folder: the ledger's journal is its
            except (StoreError, ConfigError) as exc:
                fix, detail = fix_of(exc)
                raise ListenError(str(exc), fix=fix, detail=detail) from None
            clock = self._parts.clock
            self.identity = Identity(state.keys, clock, require_keys=server.require_keys, loopback=self._parts.loopback)
            quotas = state.db.writer.run(account_rows.load_quota).result()
            self._parts.lasting.quotas.load(map(QuotaRecord.from_row, quotas))
            if self.accounts is not None:
                self.accounts.load()

    async def _join_team(self) -> None:
        """With ``[store] url``: the team's database joined (``joined``); ``ListenError`` saying why it cannot be."""
        url, state = self.settings.store.url, self.state
        if url is None or state is None:
            return
        with said_at_start():
            self._team = Joined(await open_team_store(url, self._environ, state.secrets), state)
            lasting = self._parts.lasting
            await self._team.join(lasting.accountant, self._parts.clock, self.settings.server.ledger, lasting.models)
            if self.accounts is not None:
                await join_accounts(self.accounts, lasting.quotas, self._team.store, self._environ)

    async def _read_kept(self) -> None:
        """Where the store keeps them (the team's database, once joined): the admin password set
        from the environment on the first run, the model lists, and (the state folder's) limits' counts."""
        if (state := self.state) is None:
            return
        with said_at_start():
            try:
                await state.first_password(self._admin_password)
            except InvalidRequest as exc:
                raise ListenError(
                    f"The administrator password cannot be used: {exc.message}", detail="SWITCHBOARD_ADMIN_PASSWORD"
                ) from None
            parts = self._parts
            await restore(self.gateway, parts.lasting, state, self.settings, parts.clock, self._team is None)

    async def _leave_team(self) -> None:
        if (team := self._team) is not None:
            self._team = None
            if self.accounts is not None:
                await self.accounts.leave()
            await team.leave(self._parts.lasting.accountant)

    def _surface(self, settings: Settings, gateway: Gateway) -> tuple[Guard, Handler, Router]:
        """The HTTP surface over ``gateway``, its guard not yet told the port."""
        assert self.control is not None
        server = settings.server
        guard = Guard(
            extra_names=server.allowed_hosts, cors_origins=server.cors_origins, max_body_bytes=server.max_body_bytes
        )
        handler, routes = create_handler(
            gateway,
            self.control,
            guard,
            self._parts.ids,
            self._admin_token,
            server.metrics_auth,
            server.stream_keep_alive,
            self.readiness,
        )
        return guard, handler, routes

    async def reconfigure(self) -> None:
        """Apply the settings as they are now (config file, environment, stored provider keys,
        read as a start reads them): a new pipeline is built and checked off the hot path, then
        swapped in for new requests; on a new address the gateway listens there instead.
        ``ConfigError`` with the reason when they cannot be applied: the running one serves on."""
        async with self._applying:
            live, listener = self._live, self._listener
            if live is None or listener is None or self.port is None:
                raise ConfigError("the gateway is not serving, so there is nothing to apply new settings to")
            if self._reload is None:
                raise ConfigError("this gateway was started from settings it cannot read again")
            settings = await asyncio.to_thread(self._reload)
            if problem := _open_without_keys(settings, self.state):
                raise ConfigError(problem, fix=Fix("add_client_key"))
            gateway, guard, handler, routes = await self._prepare(settings)
            await prepare_network(settings)  # the trust made (a bad ca_file refused) before the swap
            before, after = self.settings.server, settings.server
            if settings.shared != self.settings.shared:
                log.warning("[shared] redis was changed: it is used as it was until the gateway starts again")
            port, names = self.port, self._names
            if (after.host, after.port) != (before.host, before.port):
                names = await _names_of(after.host)
                try:
                    port = await listener.move(after.host, after.port)
                except ListenError as exc:
                    raise ConfigError(str(exc), fix=exc.fix, detail=exc.detail) from None
            ports = self._ports if port in self._ports else (*self._ports, port)
            guard.listening_on(port, names, ports)
            # The swap: nothing is awaited from here on, so no request sees half of it.
            old, old_sync = self.gateway, self._sync
            carry_over(self._parts.lasting, old, settings, self._ledger())
            follow_network(self._parts.transport, settings)  # [network]: ca_file and proxies
            gateway.sync.carry(old.sync)  # the model lists it has, so no request waits for them again
            self.settings, self.gateway, self.port, self._names, self._ports = settings, gateway, port, names, ports
            live.handler, live.routes = handler, routes
            listener.follow(after)
            if self.control is not None:
                self.control.gateway = gateway
            if self.identity is not None:
                self.identity.require_keys = after.require_keys
            self._serve_accounts()
            self._sync = asyncio.create_task(_model_sync(gateway), name="model-sync")
            if after.log_level != before.log_level:
                set_level(after.log_level)
            if old_sync is not None:
                old_sync.cancel()
            log.info("settings applied: %d providers, listening on %s", len(gateway.providers), self.url)
            for observer in self.on_applied:
                observer()
            if (after.host, after.port, after.require_keys) != (before.host, before.port, before.require_keys):
                await self._audit_rebind(after)

    async def _audit_rebind(self, server: ServerSettings) -> None:
        """A new address, LAN mode or need for keys, in the audit log as a start records it. The
        settings are in use already: a failure to write is logged, not a reason to put them back."""
        if self.state is not None:
            try:
                lan = not is_loopback(server.host)
                await self.state.rebound(server.host, server.port, server.require_keys, lan)
            except Exception:
                log.exception("the new address was not audited")

    async def _prepare(self, settings: Settings) -> tuple[Gateway, Guard, Handler, Router]:
        """The new pipeline and its HTTP surface, with what the database kept for it."""
        parts = self._parts
        try:
            gateway = build_gateway(settings, parts.transport, parts.clock, parts.ids, parts.lasting)
            if self.state is not None:  # a team's limits' counts were restored at the start, from its ledger
                await restore(gateway, parts.lasting, self.state, settings, parts.clock, self._team is None)
            return (gateway, *self._surface(settings, gateway))
        except ConfigError:
            raise
        except Exception as exc:
            log.exception("the new settings could not be built")
            raise ConfigError(f"the new settings could not be applied: {exc}") from None

    def _ledger(self) -> Ledger | None:
        """Where ledger rows go: the team's database when joined, else the state folder's."""
        if self._team is not None:
            return self._team.recorder
        return self.state.db if self.state is not None else None

    def _serve_accounts(self) -> None:
        if self.accounts is not None:
            for kind in account_rows.KINDS:
                self.gateway.serve_accounts(kind, self.accounts.accounts(kind))

    async def stop(self) -> None:
        # After a settings change under way (it would swap in a pipeline, and start its model
        # sync, on a server already stopped); one that comes after finds nothing serving.
        async with self._applying:
            await self._stop()

    async def _stop(self) -> None:
        for task in (self._sync, self._chores):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._sync = self._chores = None
        if self.flows is not None:
            await self.flows.close()
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        await self.gateway.counted()
        await self._parts.transport.aclose()
        if self._parts.lasting.team is not None:
            await self._parts.lasting.team.close()
        if self._housekeeping is not None:  # to the team's chain too, before it is closed
            with contextlib.suppress(Exception):
                await asyncio.gather(*map(asyncio.wrap_future, self._housekeeping.summarise()))
            self._housekeeping = None
        await self._leave_team()
        if self.state is not None:
            await asyncio.to_thread(self.state.close)
            self.state = None
        if self._folder_lock is not None:
            self._folder_lock.release()
            self._folder_lock = None


async def _names_of(host: str) -> tuple[str, ...]:
    """How callers beyond loopback name this gateway listening on ``host`` (``addresses.names_of``)."""
    return tuple(await asyncio.to_thread(names_of, host))


def _open_without_keys(settings: Settings, state: State | None) -> str | None:
    """Why these settings may not serve: listening beyond loopback with no client key."""
    host = settings.server.host
    if is_loopback(host) or (state is not None and state.keys.live > 0):
        return None
    # SECURITY.md S2: beyond loopback every caller needs a client key; no open fallback.
    return (
        "Switchboard will not let other computers in while there is no client key: every caller "
        "from the network must present one. Create a client key first, or keep Switchboard to this computer."
    )


async def _model_sync(gateway: Gateway) -> None:
    """The model lists, kept fresh in the background; once the first round is in, the model rules
    (aliases, globs, default) with routes no provider lists are said in the log."""
    sync = gateway.sync
    rules = tuple((rule.key, rule.chain) for rule in gateway.router.rules.every)
    await sync.run(then=partial(report_unserved, rules, sync.index))
