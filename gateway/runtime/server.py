"""Runs the gateway: bind, serve, drain gracefully on stop.

``GatewayServer`` is what the headless CLI and the tray app's gateway thread both drive:
``start()`` opens the state (database, keys, secrets), binds (or raises ``ListenError`` with a
one-line reason) and ``stop()`` stops accepting, lets requests in flight finish within the grace
period, closes upstream connections and writes what is still queued for the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.admin.control import Control
from gateway.admin.state import State
from gateway.api.app import create_handler
from gateway.api.connections import CappedServer, ConnectionCap, connection_cap, limit_body_time
from gateway.api.guard import Guard
from gateway.api.router import Router
from gateway.auth.account_book import AccountBook
from gateway.auth.identity import Identity
from gateway.auth.login_flows import LoginFlows
from gateway.auth.passwords import Passwords
from gateway.clock import Clock, SystemClock
from gateway.config.editing import SettingsFile
from gateway.config.settings import Settings
from gateway.errors import ConfigError, InvalidRequest
from gateway.ids import RequestIds
from gateway.pipeline.gateway import Gateway
from gateway.routing.model_sync import ListedModels
from gateway.routing.quota import QuotaRecord
from gateway.routing.spoken import Unspoken
from gateway.runtime.tuning import raise_descriptor_limit
from gateway.runtime.wiring import build_gateway
from gateway.store import accounts as account_rows
from gateway.store import model_lists
from gateway.store.db import StoreError
from gateway.store.folder_lock import FolderLock
from gateway.store.secrets import SecretStore, described, open_secrets
from gateway.transport import Transport
from gateway.transport.addresses import is_loopback, is_wildcard, own_names
from gateway.transport.http1 import Http1Transport

log = logging.getLogger("gateway")

_ADDRESS_IN_USE = {errno.EADDRINUSE, 10048}  # 10048: WSAEADDRINUSE on Windows
KEYS_REFRESH = 2.0  # seconds: how soon a key created or revoked by another process counts here
SUMMARY_INTERVAL = 60.0  # seconds: limit denials and failed sign-ins go to the audit log this often
QUOTA_INTERVAL = 300.0  # seconds between asking each account's usage endpoint


class ListenError(Exception):
    """The gateway cannot listen where it was asked to; the message says what to do."""


class GatewayServer:
    def __init__(
        self,
        settings: Settings,
        *,
        transport: Transport | None = None,
        clock: Clock | None = None,
        admin_token: str | None = None,
        data_dir: Path | None = None,
        secrets: SecretStore | None = None,
        passwords: Passwords | None = None,
        admin_password: str | None = None,
        environ: Mapping[str, str] | None = None,
        home: Path | None = None,
        open_browser: Callable[[str], object] | None = None,
        settings_file: SettingsFile | None = None,
        folder_lock: FolderLock | None = None,
        loopback: Callable[[str], bool] = is_loopback,
    ) -> None:
        """``admin_token``: the local admin token admin routes accept.
        ``data_dir``: where the database lives; without one there are no client keys, no ledger
        and no admin sign-in (and the gateway may listen on loopback only).
        ``secrets``: the secret store (default: the keychain, or a file when there is none).
        ``admin_password``: sets the admin password on the first run only.
        ``environ``, ``home``: where other tools' logins are found for import (the process's own by
        default); ``open_browser``: opens a sign-in page for the user (none on a server).
        ``settings_file``: the config file the admin settings routes edit (none: they answer 404).
        ``folder_lock``: held on the state folder until ``stop()``, which lets it go.
        ``loopback``: which peer addresses are this computer (tests take one of 127/8 for a LAN peer)."""
        self.settings = settings
        self._settings_file = settings_file
        self._admin_token = admin_token
        self._admin_password = admin_password
        self._folder_lock = folder_lock
        self._loopback = loopback
        self._clock = clock = clock or SystemClock()
        self._transport = transport or Http1Transport()
        self._ids = RequestIds()
        self.state: State | None = None
        if data_dir is not None:
            store = secrets if secrets is not None else open_secrets(data_dir)
            self.state = State(data_dir, store, clock, local_token=admin_token, passwords=passwords)
        state = self.state
        ledger = state.db if state is not None and settings.server.ledger else None
        keep_quota = keep_models = keep_unspoken = None
        if state is not None:
            writer = state.db.writer
            keep_quota = lambda r: writer.append(account_rows.save_quota, r.row())  # noqa: E731
            keep_models = lambda m: writer.append(model_lists.save, m.row())  # noqa: E731
            keep_unspoken = lambda u: writer.append(model_lists.save_unspoken, u.row())  # noqa: E731
        self.gateway: Gateway = build_gateway(
            settings, self._transport, clock, self._ids, ledger, keep_quota, keep_models, keep_unspoken
        )
        self.accounts: AccountBook | None = None  # subscription accounts, with a database
        if state is not None:
            self.accounts = AccountBook(state.db, state.secrets, clock, settings.subscriptions, self._transport)
            self.accounts.quota_seen = self.gateway.quotas.observe
            self.accounts.changed.append(self._serve_accounts)
        self.flows = (
            LoginFlows(
                self.accounts,
                clock,
                env=os.environ if environ is None else environ,
                home=home or Path.home(),
                open_browser=open_browser,
            )
            if self.accounts is not None
            else None
        )
        self.identity: Identity | None = None
        self.routes: Router | None = None  # every route served, once started
        self.control: Control | None = None  # what an administrator can do, once started
        self._housekeeping: asyncio.Task[None] | None = None
        server = settings.server
        self._guard = Guard(
            extra_names=server.allowed_hosts,
            cors_origins=server.cors_origins,
            max_body_bytes=server.max_body_bytes,
        )
        self._runner: web.ServerRunner | None = None
        self._sync: asyncio.Task[None] | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        host = self.settings.server.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    async def start(self) -> None:
        server = self.settings.server
        max_body, body_timeout = server.max_body_bytes, server.body_timeout
        loop = asyncio.get_running_loop()
        state = self.state
        try:
            self._open_state()
        except ListenError:
            if state is not None:
                await asyncio.to_thread(state.close)
                self.state = None
            raise

        def new_request(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> web.BaseRequest:
            if not payload.is_eof():  # most bodies come whole with their head: no timer for them
                limit_body_time(payload, body_timeout, loop)
            return web.BaseRequest(message, payload, protocol, writer, task, loop, client_max_size=max_body)

        self.control = Control(self.gateway, state, self.identity, self.flows, self._settings_file)
        handler, self.routes = create_handler(
            self.control, self._guard, self._ids, self._admin_token, server.metrics_auth, server.stream_keep_alive
        )
        cap = ConnectionCap(
            connection_cap(server.max_connections, raise_descriptor_limit()),
            server.max_connections_per_peer,
            self._loopback,
        )
        runner = web.ServerRunner(
            CappedServer(
                handler,
                cap=cap,
                request_factory=new_request,
                keepalive_timeout=server.header_timeout,  # the deadline for a request's head: api/connections.py
                handler_cancellation=True,  # a client that hangs up cancels its upstream call
                access_log=None,
                auto_decompress=False,  # bounded inflating is done in api/body.py
            ),
            shutdown_timeout=server.shutdown_grace,
        )
        await runner.setup()
        site = web.TCPSite(runner, server.host, server.port, backlog=1024)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ListenError(_listen_failure(server.host, server.port, exc)) from None
        self._runner = runner
        self.port = runner.addresses[0][1]
        # Listening on every interface: callers name this machine by its LAN name or address.
        names = await asyncio.to_thread(own_names) if is_wildcard(server.host) else ()
        self._guard.listening_on(self.port, names)
        self._sync = asyncio.create_task(self.gateway.sync.run(), name="model-sync")
        if state is not None:
            lan = not is_loopback(server.host)
            await asyncio.to_thread(
                state.started, server.host, server.port, server.require_keys, lan, self.settings.config_file
            )
            if state.secrets.kind in ("file", "memory"):  # S31: never silent about where secrets went
                log.warning("secrets are kept in %s", described(state.secrets.kind, state.secrets.where))
            self._housekeeping = asyncio.create_task(self._keep_house(state), name="housekeeping")

    def _open_state(self) -> None:
        server, state = self.settings.server, self.state
        if state is not None:
            try:
                state.open(self._admin_password)
                state.db.keep_journal()  # this process serves the folder: the ledger's journal is its
            except (StoreError, ConfigError) as exc:
                raise ListenError(str(exc)) from None
            except InvalidRequest as exc:
                raise ListenError(f"SWITCHBOARD_ADMIN_PASSWORD: {exc.message}") from None
            self.identity = Identity(state.keys, self._clock, require_keys=server.require_keys, loopback=self._loopback)
            run = state.db.writer.run
            self.gateway.quotas.load(QuotaRecord.from_row(r) for r in run(account_rows.load_quota).result())
            since = self._clock.time() - server.model_list_ttl
            self.gateway.sync.restore(
                ListedModels.from_row(r) for r in run(lambda c: model_lists.load(c, since)).result()
            )
            unspoken = run(lambda c: model_lists.load_unspoken(c, since)).result()
            self.gateway.spoken.restore(map(Unspoken.from_row, unspoken), self.gateway.providers)
            if self.accounts is not None:
                self.accounts.load()
        if not is_loopback(server.host) and (state is None or state.keys.live == 0):
            # SECURITY.md S2: beyond loopback every caller needs a client key; no open fallback.
            raise ListenError(
                f"refusing to listen on {server.host}: beyond loopback every caller must present a "
                "client key, and there is none. Create one with 'python -m gateway keys create --label NAME', "
                "or use --host 127.0.0.1."
            )

    def _serve_accounts(self) -> None:
        if self.accounts is not None:
            for kind in account_rows.KINDS:
                self.gateway.serve_accounts(kind, self.accounts.accounts(kind))

    async def _keep_house(self, state: State) -> None:
        """Pick up keys and accounts changed elsewhere, write when keys were last used, summarise
        refusals into the audit log once a minute, and ask accounts for their quota."""
        since_summary = 0.0
        since_quota = QUOTA_INTERVAL  # at once: the meters should not wait five minutes
        while True:
            if self.accounts is not None and since_quota >= QUOTA_INTERVAL:
                since_quota = 0.0
                try:
                    await self.accounts.poll_quotas()
                except Exception:
                    log.exception("could not read the accounts' quota")
            await self._clock.sleep(KEYS_REFRESH)
            try:
                await state.keys.refresh()
                if self.accounts is not None:
                    await self.accounts.refresh()
            except Exception:
                log.exception("could not reload the client keys or accounts")
            state.keys.flush_used()
            since_summary += KEYS_REFRESH
            since_quota += KEYS_REFRESH
            if since_summary >= SUMMARY_INTERVAL:
                since_summary = 0.0
                self._summarise(state)

    def _summarise(self, state: State) -> None:
        denied = self.gateway.accounting.limits.denials()
        if denied:
            state.db.audit("gateway", "limits.denied", {"per_caller": denied})
        if self.identity is not None and (failed := self.identity.failures()):
            state.db.audit("gateway", "auth.failed", {"per_peer": failed})

    async def stop(self) -> None:
        for task in (self._sync, self._housekeeping):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._sync = self._housekeeping = None
        if self.flows is not None:
            await self.flows.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.gateway.counted()
        await self._transport.aclose()
        if self.state is not None:
            self._summarise(self.state)
            await asyncio.to_thread(self.state.close)
            self.state = None
        if self._folder_lock is not None:
            self._folder_lock.release()
            self._folder_lock = None


def _listen_failure(host: str, port: int, exc: OSError) -> str:
    if exc.errno in _ADDRESS_IN_USE:
        return (
            f"port {port} on {host} is already in use (is Switchboard already running?). "
            f"Stop the other program or choose another port with --port."
        )
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on {host}:{port}; choose a port above 1024 with --port"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
