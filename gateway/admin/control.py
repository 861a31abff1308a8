"""What an administrator does to a running gateway, behind one facade: ``Control`` holds one door
per use case (status, settings, provider keys, providers, client keys, usage, audit, accounts,
the admin's own login) and passes each call to it. The admin routes answer with it over HTTP; the tray app calls it in
process, on the gateway's own loop; the CLI uses the same doors without a running gateway. Nothing
here is HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from gateway.admin.accounts import AccountListing, Accounts
from gateway.admin.admin_login import AdminLogin
from gateway.admin.applying import Apply
from gateway.admin.audit import AuditLog
from gateway.admin.client_keys import ClientKeys, CreatedKey
from gateway.admin.discovery import Discovery, Found
from gateway.admin.doctor import Finding, check_everything
from gateway.admin.doctor_team import TeamPlaces
from gateway.admin.models import ModelRow, model_rows
from gateway.admin.provider_keys import KeyChange, ProviderKeys
from gateway.admin.providers import ProviderRow, Providers, ProviderTest
from gateway.admin.proxies import Proxies
from gateway.admin.rules import ModelRules, RuleDoc, RulesRead
from gateway.admin.servers import ServerAdded, ServerDefinition, Servers
from gateway.admin.settings import SettingsEdit, SettingsEdits, SettingsRead
from gateway.admin.state import State
from gateway.admin.status import StatusDocument, quota_windows, status_document
from gateway.admin.usage import Usage, UsageReport
from gateway.auth.account_book import AccountBook
from gateway.auth.identity import Identity
from gateway.auth.login_flows import Flow, LoginFlows
from gateway.auth.sessions import TokenPair
from gateway.config.editing import Change, SettingsFile
from gateway.errors import InvalidRequest, RouteNotFound
from gateway.pipeline.gateway import Gateway
from gateway.pipeline.in_flight import InFlight
from gateway.routing.quota import QuotaReading
from gateway.store.accounts import AccountPublic
from gateway.store.audit import AuditEntry, VerdictDoc
from gateway.store.keys import ClientKey
from gateway.store.ledger import NamedSpanTotals, NamedTotals, RecentRow, SpanTotals
from gateway.store.provider_keys import stored_keys
from gateway.store.seam import AuditReads, LedgerReads
from gateway.store.sqlite_store import SqliteAuditReads, SqliteLedgerReads

T = TypeVar("T")
NO_STATE = "This gateway runs without a database, so it keeps no keys, usage, audit log or accounts."


def _check_of(file: SettingsFile | None) -> Callable[[], object] | None:
    """How a provider key change is checked: the settings file read as a start reads it."""
    if file is None:
        return None
    return lambda: file.check(file.path) if file.path.is_file() else None


def _stored_of(state: State | None) -> Callable[[], Mapping[str, tuple[str, ...]]] | None:
    """The provider keys kept in the secret store (none without a state)."""
    return (lambda: stored_keys(state.secrets)) if state is not None else None


class Control:
    """``gateway``: the running pipeline (a reconfigure may set a new one here). ``apply``: makes
    the running gateway read its settings and stored keys again (none: changes apply at its next
    start)."""

    def __init__(
        self,
        gateway: Gateway,
        state: State | None,
        identity: Identity | None,
        flows: LoginFlows | None,
        settings_file: SettingsFile | None = None,
        *,
        apply: Apply | None = None,
        ledger: LedgerReads | None = None,
        audit: AuditReads | None = None,
        team: TeamPlaces | None = None,
    ) -> None:
        """``ledger``, ``audit``: where usage and the audit log are read, when not the state
        folder's database (a team's); ``team``: the team's database and Redis the doctor checks."""
        self._team = team
        self.gateway = gateway
        self.state = state
        self.identity = identity
        self.flows = flows
        self.in_flight = InFlight()  # counted by the HTTP entry
        # One change of settings or provider keys at a time, from its write to its apply or undo:
        # an apply reads both, so one change's undo must not race another's apply.
        changing = asyncio.Lock()
        self.settings_edits = SettingsEdits(settings_file, state, apply, changing)
        self._proxies = Proxies(state, self.settings_edits, apply, changing)
        self._provider_keys = (
            ProviderKeys(state, _check_of(settings_file), apply, changing, lambda: self.gateway)
            if state is not None
            else None
        )
        self.rules_door = ModelRules(lambda: self.gateway, self.settings_edits)
        self.providers_door = Providers(lambda: self.gateway, _stored_of(state))
        self._servers = Servers(lambda: self.gateway, self._provider_keys, self.settings_edits)
        self._client_keys = ClientKeys(state) if state is not None else None
        self._usage = (
            Usage(ledger or SqliteLedgerReads(state.db.read), lambda: self.gateway.timing().created)
            if state is not None
            else None
        )
        self._audit = AuditLog(audit or SqliteAuditReads(state.db.read, state.db.anchor)) if state is not None else None
        self._admin_login = AdminLogin(state) if state is not None else None
        self._accounts = (
            Accounts(flows, lambda kind, wait: self.gateway.sync.listed(kind, wait), self._forget_quota)
            if flows is not None
            else None
        )
        self._discovery = (
            Discovery(lambda: self.gateway, self.providers_door, flows.book, state, flows.env, flows.home)
            if flows is not None
            else None
        )

    def _forget_quota(self, label: str) -> None:
        self.gateway.quotas.forget(label)

    def needs_state(self) -> State:
        if self.state is None:
            raise RouteNotFound(NO_STATE)
        return self.state

    @staticmethod
    def _needs(door: T | None) -> T:
        if door is None:
            raise RouteNotFound(NO_STATE)
        return door

    # --- status -----------------------------------------------------------------------------

    def status(self) -> StatusDocument:
        return status_document(self.gateway, self.in_flight, self.state, self.identity, self.flows)

    async def doctor(self, address: tuple[str, int]) -> list[Finding]:
        """Check everything (the app's button): this gateway serves, so ``address``'s port is its own."""
        secrets = (self.state.secrets.kind, self.state.secrets.where) if self.state is not None else None
        book = self.flows.book if self.flows is not None else None
        return await check_everything(self.gateway, book, secrets, address, serving=True, team=self._team)

    def app_key(self) -> str | None:
        """The key the tray app sends to call this gateway over HTTP as a tool would (its test
        chat): in memory only, for this start; None where no key is ever asked (no database)."""
        return self.identity.app_key if self.identity is not None else None

    # --- settings and provider keys -------------------------------------------------------------

    async def settings(self) -> SettingsRead:
        return await self.settings_edits.read()

    async def change_settings(self, changes: Sequence[Change], actor: str) -> SettingsEdit:
        return await self.settings_edits.change(changes, actor)

    async def set_proxy(self, table: str, address: str | None, user: str, password: str, actor: str) -> SettingsEdit:
        """A proxy setting (``gateway.admin.proxies``): its password to the secret store, never the file."""
        return await self._proxies.set(table, address, user, password, actor)

    async def store_provider_keys(self, provider: str, keys: tuple[str, ...], actor: str) -> KeyChange:
        if not self.providers_door.known(provider):
            raise RouteNotFound(
                f"No provider {provider[:60]!r}: keys are kept for the catalog's providers and configured ones."
            )
        return await self._needs(self._provider_keys).store(provider, keys, actor)

    async def drop_provider_keys(self, provider: str, actor: str) -> KeyChange:
        return await self._needs(self._provider_keys).drop(provider, actor)

    async def model_rules(self) -> RulesRead:
        return await self.rules_door.read()

    async def save_model_rules(self, rules: Sequence[RuleDoc], actor: str) -> SettingsEdit:
        """``[aliases]`` made these rules, in this order (globs are tried in it)."""
        return await self.rules_door.save(rules, actor)

    async def enforce_model(self, name: str | None, actor: str) -> SettingsEdit:
        return await self.rules_door.enforce(name, actor)

    # --- providers ------------------------------------------------------------------------------

    async def providers(self) -> list[ProviderRow]:
        return await self.providers_door.listing()

    async def test_provider(self, provider_id: str) -> ProviderTest:
        return await self.providers_door.test(provider_id)

    async def rescan_local(self) -> list[ProviderRow]:
        return await self.providers_door.rescan_local()

    async def try_provider_key(self, provider: str, key: str, base_url: str = "") -> ProviderTest:
        """Ask the provider for its models with this key (and address), saving nothing."""
        return await self._servers.try_key(provider, key, base_url)

    async def save_provider_key(self, provider: str, key: str, base_url: str, actor: str) -> bool:
        return await self._servers.save_key(provider, key, base_url, actor)

    async def try_server(self, definition: ServerDefinition) -> ProviderTest:
        return await self._servers.try_server(definition)

    async def add_server(self, definition: ServerDefinition, actor: str) -> ServerAdded:
        return await self._servers.add_server(definition, actor)

    async def remove_server(self, provider: str, actor: str) -> bool:
        return await self._servers.remove_server(provider, actor)

    async def models(self) -> list[ModelRow]:
        """Every model every route serves, with what it can do, costs and whether it answers now."""
        return await model_rows(self.gateway)

    # --- client keys ----------------------------------------------------------------------------

    def keys(self) -> list[ClientKey]:
        return self._needs(self._client_keys).listing()

    async def create_key(
        self, label: str, tier: str, limits: Mapping[str, Any], actor: str, enforce_model: str | None = None
    ) -> CreatedKey:
        return await self._needs(self._client_keys).create(label, tier, limits, actor, enforce_model)

    async def set_key_limits(self, key_id: str, tier: str, limits: Mapping[str, Any], actor: str) -> None:
        await self._needs(self._client_keys).set_limits(key_id, tier, limits, actor)

    async def revoke_key(self, key_id: str, actor: str) -> None:
        await self._needs(self._client_keys).revoke(key_id, actor)

    # --- usage and audit ----------------------------------------------------------------------

    async def usage(
        self, view: str, since: float | None = None, until: float | None = None, bucket: str = "hour"
    ) -> UsageReport:
        return await self._needs(self._usage).report(view, since, until, bucket)

    async def usage_by(self, view: str, since: float | None = None) -> list[NamedTotals]:
        return await self._needs(self._usage).grouped(view, since)

    async def usage_over_time(self, since: float | None = None, bucket: str = "hour") -> list[SpanTotals]:
        return await self._needs(self._usage).timeseries(since, bucket)

    async def usage_over_time_by(
        self, view: str, since: float | None = None, bucket: str = "hour"
    ) -> list[NamedSpanTotals]:
        return await self._needs(self._usage).timeseries_by(view, since, bucket)

    async def recent_requests(self) -> list[RecentRow]:
        return await self._needs(self._usage).recent()

    async def audit_events(self, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        return await self._needs(self._audit).events(after, limit)

    async def audit_export(self) -> bytes:
        """Every event with its hashes as JSON lines, to be kept or checked elsewhere
        (``audit verify --file``)."""
        return await self._needs(self._audit).export()

    async def audit_verify(self) -> VerdictDoc:
        return await self._needs(self._audit).verify()

    # --- the admin's own login -----------------------------------------------------------------

    async def login(self, name: str, password: str, peer: str) -> TokenPair:
        return await self._needs(self._admin_login).login(name, password, peer)

    async def refresh_login(self, refresh_token: str) -> TokenPair:
        return await self._needs(self._admin_login).refresh(refresh_token)

    async def set_admin_password(self, password: str, actor: str) -> None:
        await self._needs(self._admin_login).set_password(password, actor)

    # --- accounts and quota --------------------------------------------------------------------

    @property
    def book(self) -> AccountBook:
        return self._needs(self._accounts).book

    def accounts(self) -> AccountListing:
        return self._needs(self._accounts).listing()

    async def import_codex(self, actor: str, path: Path | None = None, *, sync: bool = False) -> AccountPublic:
        return await self._needs(self._accounts).import_codex(actor, path, sync=sync)

    async def import_copilot(self, actor: str, token: str | None = None, host: str | None = None) -> AccountPublic:
        return await self._needs(self._accounts).import_copilot(actor, token, host)

    async def sign_in(self, kind: str, actor: str) -> Flow:
        return await self._needs(self._accounts).sign_in(kind, actor)

    def flow(self, flow_id: str) -> Flow | None:
        return self._needs(self._accounts).flow(flow_id)

    def paste_redirect(self, flow: Flow, url: str) -> None:
        self._needs(self._accounts).paste_redirect(flow, url)

    async def remove_account(self, account_id: str, actor: str) -> bool:
        return await self._needs(self._accounts).remove(account_id, actor) is not None

    # --- what this computer has already (the first-run welcome) ------------------------------

    async def discover(self) -> list[Found]:
        return await self._needs(self._discovery).find()

    async def keep_env_keys(self, provider: str, actor: str) -> KeyChange:
        """Store the keys the environment gives a provider, so they are used at a start without them."""
        keys = await self._needs(self._discovery).keys_to_keep(provider)
        if not keys:
            raise InvalidRequest(f"There is no key for {provider[:60]!r} to keep.", param="provider")
        return await self.store_provider_keys(provider, keys, actor)

    def quota(self) -> list[QuotaReading]:
        return quota_windows(self.gateway)

    async def refresh_quota(self) -> list[QuotaReading]:
        await self.book.poll_quotas()
        return self.quota()
