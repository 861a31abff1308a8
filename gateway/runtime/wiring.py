"""The composition root: a pipeline built from settings (adapters, key pools, model index and
sync, router, answer cache) over what lasts from one pipeline to the next (``Lasting``), so a
settings change can build a new one beside the one serving and swap it in.

Transport and clock come in from outside, so tests and the app choose them.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

from gateway.admin.state import State
from gateway.auth.account_book import AccountBook
from gateway.auth.login_flows import LoginFlows
from gateway.auth.passwords import Passwords
from gateway.clock import Clock, SystemClock
from gateway.config.editing import SettingsFile
from gateway.config.settings import Settings
from gateway.ids import RequestIds
from gateway.pipeline.accounting import Accountant, Ledger
from gateway.pipeline.gateway import Gateway
from gateway.pipeline.limit_book import LimitBook
from gateway.pipeline.metrics import Metrics
from gateway.providers.registry import adapter
from gateway.providers.settings import SUBSCRIPTIONS, ProviderSettings, SubscriptionSettings
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.model_sync import ModelSync
from gateway.routing.pool import KeyPool
from gateway.routing.pricing import Pricing
from gateway.routing.quota import QuotaBook
from gateway.routing.response_cache import ResponseCache
from gateway.routing.router import Router
from gateway.routing.spoken import Spoken
from gateway.runtime.kept_models import KeptModels
from gateway.runtime.team import Team, limits_for
from gateway.runtime.upstream import upstream_transport
from gateway.store import accounts as account_rows
from gateway.store import ledger as ledger_rows
from gateway.store.folder_lock import FolderLock
from gateway.store.secrets import SecretStore, open_secrets
from gateway.transport import Transport
from gateway.transport.addresses import is_loopback

log = logging.getLogger("gateway")


def points_at(provider: ProviderSettings, port: int) -> bool:
    """Whether a provider's URL is this gateway itself (OPENAI_BASE_URL often is, for tools)."""
    parts = urlsplit(provider.base_url)
    default = 443 if parts.scheme == "https" else 80
    return bool(parts.hostname) and is_loopback(parts.hostname or "") and (parts.port or default) == port


def without_self(providers: Sequence[ProviderSettings], port: int) -> list[ProviderSettings]:
    kept = []
    for provider in providers:
        if port and points_at(provider, port):
            log.warning("%s: its base URL %s is this gateway itself; leaving it out", provider.id, provider.base_url)
        else:
            kept.append(provider)
    return kept


def subscription_providers(subs: SubscriptionSettings) -> list[ProviderSettings]:
    """ChatGPT and Copilot, served by whatever accounts are signed in (none at first)."""
    return [
        ProviderSettings("codex", "ChatGPT (Codex)", subs.codex_base_url, (), kind="codex", rotation=subs.rotation),
        ProviderSettings("copilot", "GitHub Copilot", subs.copilot_api_url, (), kind="copilot", rotation=subs.rotation),
    ]


@dataclass(frozen=True, slots=True)
class Lasting:
    """What outlives every pipeline a server builds, so a settings change loses none of it: the
    accountant (limits' windows and reservations, metrics, totals, the ledger), the routes' health
    and the accounts' quota windows (which bench an exhausted account through that health), and
    where model lists and unspoken protocols are kept."""

    accountant: Accountant
    health: Health
    quotas: QuotaBook
    models: KeptModels | None = None  # none: nothing is kept (no state folder)
    team: Team | None = None  # team mode's Redis, when ``[shared] redis`` names one

    @classmethod
    def made(cls, settings: Settings, clock: Clock, state: State | None = None, alone: bool = False) -> Lasting:
        """Fresh, for a server over ``state`` (its database keeps the rows), or for none. ``alone``:
        a CLI command's one pipeline, which serves no client key, so joins no team (no Redis client
        to open, and none left unclosed)."""
        health = Health(clock, settings.routing.policy)
        team = None if alone else Team.made(settings, clock, state.secrets if state is not None else None)
        limits = limits_for(team, clock)
        if state is None:
            return cls(Accountant(clock, limits, Metrics()), health, QuotaBook(clock, health), team=team)
        writer = state.db.writer
        ledger = state.db if settings.server.ledger else None
        return cls(
            Accountant(clock, limits, Metrics(), ledger),
            health,
            QuotaBook(clock, health, lambda r: writer.append(account_rows.save_quota, r.row())),
            KeptModels(writer),
            team,
        )


class ServerOptions(TypedDict, total=False):
    """What a ``GatewayServer`` is given besides its settings (all optional)."""

    transport: Transport  # the upstream HTTP client (default: ``upstream_transport``'s, as the settings say)
    clock: Clock
    admin_token: str | None  # the local admin token admin routes accept
    # Where the database lives; without one there are no client keys, no ledger and no admin
    # sign-in (and the gateway may listen on loopback only).
    data_dir: Path | None
    secrets: SecretStore | None  # the secret store (default: the keychain, or a file when there is none)
    passwords: Passwords | None
    admin_password: str | None  # sets the admin password on the first run only
    # Where other tools' logins are found for import (the process's own by default).
    environ: Mapping[str, str] | None
    home: Path | None
    open_browser: Callable[[str], object] | None  # opens a sign-in page for the user (none on a server)
    settings_file: SettingsFile | None  # the config file the admin settings routes edit (none: they answer 404)
    folder_lock: FolderLock | None  # held on the state folder until ``stop()``, which lets it go
    loopback: Callable[[str], bool]  # which peer addresses are this computer (tests take one of 127/8 for a LAN peer)
    # How the settings are read again, as at the start (file, environment, stored keys; blocking):
    # what ``reconfigure`` applies. None: the settings given are all there is.
    reload: Callable[[], Settings] | None


@dataclass(frozen=True, slots=True)
class Parts:
    """What a server is made of from its start to its stop, whatever pipeline serves."""

    transport: Transport
    clock: Clock
    ids: RequestIds
    state: State | None
    lasting: Lasting
    accounts: AccountBook | None  # subscription accounts, with a database
    flows: LoginFlows | None  # their sign-ins and imports
    loopback: Callable[[str], bool]


def compose(settings: Settings, options: ServerOptions) -> Parts:
    """The lasting parts, not started: the state (opened at start), the accountant and health,
    the accounts and their sign-ins."""
    clock = options.get("clock") or SystemClock()
    transport = options.get("transport") or upstream_transport(settings)
    state = None
    if (data_dir := options.get("data_dir")) is not None:
        given = options.get("secrets")
        store = given if given is not None else open_secrets(data_dir)
        token, passwords = options.get("admin_token"), options.get("passwords")
        state = State(data_dir, store, clock, local_token=token, passwords=passwords)
    lasting = Lasting.made(settings, clock, state)
    accounts = flows = None
    if state is not None:
        lock = lasting.team.renewal_lock() if lasting.team is not None else None
        accounts = AccountBook(state.db, state.secrets, clock, settings.subscriptions, transport, lock)
        accounts.quota_seen = lasting.quotas.observe
        environ = options.get("environ")
        flows = LoginFlows(
            accounts,
            clock,
            env=os.environ if environ is None else environ,
            home=options.get("home") or Path.home(),
            open_browser=options.get("open_browser"),
        )
    return Parts(transport, clock, RequestIds(), state, lasting, accounts, flows, options.get("loopback", is_loopback))


def build_gateway(
    settings: Settings,
    transport: Transport,
    clock: Clock,
    new_request_id: Callable[[], str],
    lasting: Lasting | None = None,
) -> Gateway:
    """A pipeline from ``settings``: adapters, key pools, model index and sync, router, answer
    cache; over ``lasting`` (a fresh one, when none: a CLI command's single pipeline)."""
    kept = lasting or Lasting.made(settings, clock, alone=True)
    subs = settings.subscriptions
    configured = without_self(settings.providers, settings.server.port)
    adapters = [adapter(p) for p in [*configured, *subscription_providers(subs)]]
    quotas = kept.quotas
    pools = {
        a.id: KeyPool(a.id, a.settings.keys, a.settings.rotation, rank=quotas.allowance, accounts=a.id in SUBSCRIPTIONS)
        for a in adapters
    }
    index = ModelIndex([a.id for a in adapters])
    sync = ModelSync(
        adapters,
        pools,
        index,
        transport,
        clock,
        interval=settings.server.model_refresh,
        new_request_id=new_request_id,
        ttl=settings.server.model_list_ttl,
        keep=kept.models.listed if kept.models is not None else None,
    )
    routing = settings.routing
    kept.health.local = frozenset(a.id for a in adapters if a.settings.local)
    # Their tokens cost nothing here: local servers, subscriptions' accounts, plans paid by a fee.
    free = [a.id for a in adapters if a.settings.local or a.settings.flat_fee or a.id in SUBSCRIPTIONS]
    kept.accountant.pricing = Pricing(index, dict(routing.models), free)
    router = Router(
        index,
        pools,
        kept.health,
        Capabilities(index, dict(routing.models), [a.id for a in adapters if a.settings.local]),
        Affinity(clock, routing.affinity),
        _active(routing.aliases, pools),
        {a.id: a.settings.max_request_bytes for a in adapters if a.settings.max_request_bytes},
        not_auto=() if subs.in_auto else SUBSCRIPTIONS,
        enforced=routing.enforce_model,
    )
    cache = ResponseCache(clock, routing.cache)
    spoken = Spoken(clock, settings.server.model_list_ttl, kept.models.learned if kept.models is not None else None)
    return Gateway(
        adapters, transport, clock, index, sync, pools, router, routing.deadline, cache, kept.accountant, quotas, spoken
    )


async def restore(
    gateway: Gateway, lasting: Lasting, state: State, settings: Settings, clock: Clock, counts: bool = True
) -> None:
    """What the store kept for a new pipeline: model lists and the protocols servers turned out
    not to speak (``KeptModels``: the team's, when joined), where still fresh and taken at each
    provider's address now; and, with ``counts``, the client keys' counters from the state
    folder's ledger (a team's is not there: ``joined.restore_team_limits``)."""
    if lasting.models is not None:
        await lasting.models.restore(gateway, clock.time() - settings.server.model_list_ttl)
    if counts:
        await asyncio.to_thread(restore_limits, gateway.accounting.limits, state, clock)


def restore_limits(limits: LimitBook, state: State, clock: Clock) -> None:
    """The client keys' counters as the ledger has them, at a start: a day's in 10-minute
    buckets and the last minute's by the second (two grouped reads of an indexed span), and 30
    days' dollars by the hour (from the roll-up), so a restart gives no key a fresh allowance.
    Blocking, as ``restore``."""
    run, now = state.db.writer.run, clock.time()
    limits.restore(run(lambda c: ledger_rows.caller_counts(c, now - 86400, 600)).result(), minute=False)
    limits.restore(run(lambda c: ledger_rows.caller_counts(c, now - 60, 1)).result(), minute=True)
    limits.restore_dollars(run(lambda c: ledger_rows.caller_spend(c, now - 30 * 86400)).result())


def carry_over(lasting: Lasting, before: Gateway, settings: Settings, ledger: Ledger | None) -> None:
    """What lasts, fitted to new settings when a new pipeline replaces ``before``: the ledger
    (where rows go: the state folder's database or the team's) switched on or off, the health
    policy, and a clean start for every provider whose settings changed or that is gone (a new
    key must not inherit the rests of the one it replaces)."""
    lasting.accountant.ledger = ledger if settings.server.ledger else None
    health = lasting.health
    changed_policy = health.policy != settings.routing.policy
    health.policy = settings.routing.policy
    now = {p.id: p for p in settings.providers}
    for provider in before.providers:
        if provider.id not in SUBSCRIPTIONS and now.get(provider.id) != provider.settings:
            before.forgive(provider.id)
        elif changed_policy:
            health.forgive(provider.id, ())  # its breaker is made again, under the new policy


def _active(
    aliases: Sequence[tuple[str, tuple[str, ...]]], pools: Mapping[str, KeyPool]
) -> list[tuple[str, tuple[str, ...]]]:
    """Aliases with only the routes whose provider is configured here; the others are named in
    the log once, since the same config file often travels between machines."""
    kept = []
    for name, chain in aliases:
        present = tuple(ref for ref in chain if ref.partition("/")[0] in pools)
        if len(present) < len(chain):
            missing = ", ".join(ref for ref in chain if ref not in present)
            log.warning("alias %s: leaving out %s (provider not configured)", name, missing)
        if present:
            kept.append((name, present))
    return kept
