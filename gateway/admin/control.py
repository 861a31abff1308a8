"""What an administrator does to a running gateway, in one place: read its status, usage and
audit log, connect and remove accounts, store provider keys, read and edit its settings file.
The admin routes answer with it over HTTP; the tray app calls it in process, on the gateway's own
loop. Nothing here is HTTP.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from gateway.admin.state import State
from gateway.auth.account_book import AccountBook
from gateway.auth.accounts import RISK_NOTE
from gateway.auth.identity import Identity
from gateway.auth.login_flows import Flow, LoginFlows
from gateway.auth.oauth.logins_on_disk import (
    ImportProblem,
    codex_auth_file,
    copilot_config_dir,
    read_codex_login,
    read_editor_login,
    write_back_to,
)
from gateway.config.editing import Change, SettingsFile
from gateway.errors import ConfigError, InvalidRequest, RouteNotFound
from gateway.pipeline.gateway import Gateway
from gateway.pipeline.in_flight import InFlight
from gateway.providers.base import ChatProvider
from gateway.providers.catalog import load_catalog
from gateway.providers.settings import SUBSCRIPTIONS, ProviderSettings
from gateway.store import audit, ledger
from gateway.store.provider_keys import remove_keys, set_keys
from gateway.store.secrets import described


def _provider_row(
    pid: str,
    name: str,
    local: bool,
    settings: ProviderSettings | None,
    url: str,
    models: dict[str, list[str]],
    error: str | None,
    url_path: str = "",
) -> dict[str, Any]:
    return {
        "id": pid,
        "name": name,
        "local": local,
        "url_path": url_path,  # what a server's root address needs after it (a local server's "/v1")
        "configured": settings is not None,
        "looked_for": settings is not None and settings.probe,  # on its usual port, used while it answers
        "base_url": settings.base_url if settings is not None else url,
        "keys": len(settings.keys) if settings is not None else 0,
        "source": settings.source if settings is not None else None,
        "models": models.get(pid, []),
        "error": error,
    }


APPLIES = "at the gateway's next start"  # settings are read once, at start
LIST_WAIT = 10.0  # seconds a new account's answer waits for its model list
NO_STATE = "This gateway runs without a database, so it keeps no keys, usage, audit log or accounts."


def store_provider_keys(state: State, provider: str, keys: tuple[str, ...], actor: str) -> str:
    """Keep a provider's keys in the secret store, audited by provider id (never the keys); where
    they went, in words. Blocking (the keychain): call from a thread."""
    if not keys or any(not k.isascii() or not k.isprintable() or " " in k for k in keys):
        raise InvalidRequest("give one key per line, printable ASCII without spaces", param="keys")
    set_keys(state.secrets, provider, keys)
    state.db.audit(actor, "provider.key_stored", {"provider": provider, "keys": len(keys)}).result()
    return described(state.secrets.kind, state.secrets.where)


def drop_provider_keys(state: State, provider: str, actor: str) -> bool:
    """Forget a provider's stored keys; False when none were stored. Blocking."""
    if not remove_keys(state.secrets, provider):
        return False
    state.db.audit(actor, "provider.key_removed", {"provider": provider}).result()
    return True


class Control:
    def __init__(
        self,
        gateway: Gateway,
        state: State | None,
        identity: Identity | None,
        flows: LoginFlows | None,
        settings_file: SettingsFile | None = None,
    ) -> None:
        self.gateway = gateway
        self.state = state
        self.identity = identity
        self.flows = flows
        self.settings_file = settings_file
        self.in_flight = InFlight()  # counted by the HTTP entry

    def needs_state(self) -> State:
        if self.state is None:
            raise RouteNotFound(NO_STATE)
        return self.state

    def _needs_flows(self) -> LoginFlows:
        if self.flows is None:
            raise RouteNotFound(NO_STATE)
        return self.flows

    # --- status -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Providers and keys with their health, usage so far; with a database also client keys,
        where secrets are, the audit anchor, accounts and quota windows. Nothing secret."""
        gateway = self.gateway
        status = gateway.status()
        status["in_flight"] = self.in_flight.count
        state = self.state
        if state is not None:
            limits = gateway.accounting.limits
            status["access"] = {
                "require_keys": bool(self.identity and self.identity.require_keys),
                "keys": [
                    {**key, "usage": limits.usage(caller)} if (caller := state.keys.caller(key["id"])) else key
                    for key in state.keys.listing()
                ],
                "secrets": {"kind": state.secrets.kind, "where": state.secrets.where},
                "audit": {"anchor_problem": state.db.anchor_problem},
                "ledger_write_failures": state.db.writer.failures,
            }
        if self.flows is not None:
            status["accounts"] = self.flows.book.listing()
            status["quota"] = self.quota()
        return status

    # --- client keys ----------------------------------------------------------------------------

    def keys(self) -> list[dict[str, Any]]:
        return self.needs_state().keys.listing()

    async def create_key(self, label: str, tier: str, limits: dict[str, Any], actor: str) -> dict[str, Any]:
        """A new client key: the whole key is in the answer, this once, and never again."""
        key, record = await self.needs_state().keys.create(label, tier, limits, actor)
        return {"key": key, **record.public()}

    async def revoke_key(self, key_id: str, actor: str) -> None:
        if not await self.needs_state().keys.revoke(key_id, actor):
            raise RouteNotFound(f"No live key with id {key_id[:40]!r}.")

    # --- usage and audit ----------------------------------------------------------------------

    async def usage(
        self, view: str, since: float | None = None, until: float | None = None, bucket: str = "hour"
    ) -> dict[str, Any]:
        state = self.needs_state()
        if view not in ledger.VIEWS:
            raise InvalidRequest(f"'view' must be one of {', '.join(ledger.VIEWS)}", param="view")
        if bucket not in ("hour", "day"):
            raise InvalidRequest("'bucket' must be hour or day", param="bucket")
        now = self.gateway.timing().created
        start = now - 86400 if since is None else since
        end = now + 1 if until is None else until
        rows = await state.db.read(lambda conn: ledger.report(conn, view, start, end, bucket))
        return {"view": view, "since": start, "until": end, "rows": rows}

    async def audit_events(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        state = self.needs_state()
        count = min(1000, max(1, limit))
        found = await state.db.read(lambda conn: audit.events(conn, after, count))
        return [event.public() for event in found]

    async def audit_export(self) -> list[dict[str, Any]]:
        """Every event with its hashes, to be kept or checked elsewhere (``audit verify --file``)."""
        state = self.needs_state()
        return await state.db.read(lambda conn: list(audit.export(conn)))

    async def audit_verify(self) -> dict[str, Any]:
        state = self.needs_state()
        verdict = await state.db.read(lambda conn: audit.verify(conn, state.db.anchor))
        return verdict.public()

    # --- accounts and quota --------------------------------------------------------------------

    @property
    def book(self) -> AccountBook:
        return self._needs_flows().book

    def accounts(self) -> dict[str, Any]:
        return {"accounts": self.book.listing(), "risk_note": RISK_NOTE}

    async def import_codex(self, actor: str, path: Path | None = None, *, sync: bool = False) -> dict[str, Any]:
        """The Codex CLI's login (its auth.json, or ``path``) as an account; with ``sync``,
        renewed tokens are written back there so the CLI keeps working."""
        flows = self._needs_flows()
        found = path or codex_auth_file(flows.env, flows.home)
        try:
            login = await asyncio.to_thread(read_codex_login, found)
            keep_in_step = write_back_to(login, sync)
        except ImportProblem as exc:
            raise InvalidRequest(str(exc), param="path") from None
        row = await flows.book.connect_codex(login.tokens, "import:codex-cli", actor, keep_in_step, login.account_id)
        await self.gateway.sync.listed("codex", LIST_WAIT)  # its models are there when this returns
        return row.public()

    async def import_copilot(self, actor: str, token: str | None = None, host: str | None = None) -> dict[str, Any]:
        """A GitHub token given, or else the one an editor's Copilot sign-in left on disk for
        ``host`` (default: the configured GitHub's host, so a GitHub Enterprise login is found)."""
        flows = self._needs_flows()
        if token is None:
            folder = copilot_config_dir(flows.env, flows.home, sys.platform == "win32")
            try:
                login = await asyncio.to_thread(read_editor_login, flows.env, folder, host or flows.book.github.host)
            except ImportProblem as exc:
                raise InvalidRequest(str(exc), param="token") from None
            token, user, origin = login.token, login.user, "import:editor"
        else:
            user, origin = "", "import:token"
        row = await flows.book.connect_copilot(token, origin, actor, user)
        await self.gateway.sync.listed("copilot", LIST_WAIT)
        return row.public()

    async def sign_in(self, kind: str, actor: str) -> Flow:
        """Start "Sign in with ChatGPT" (``codex``) or "with GitHub Copilot" (``copilot``)."""
        flows = self._needs_flows()
        if kind == "codex":
            return await flows.start_chatgpt(actor)
        if kind == "copilot":
            return await flows.start_copilot(actor)
        raise RouteNotFound(f"No sign-in {kind[:60]!r}; start one with codex or copilot.")

    def flow(self, flow_id: str) -> Flow | None:
        return self._needs_flows().get(flow_id)

    def paste_redirect(self, flow: Flow, url: str) -> None:
        """The address a ChatGPT sign-in's browser ended on, when no listener could catch it."""
        self._needs_flows().paste_redirect(flow, url)

    async def remove_account(self, account_id: str, actor: str) -> bool:
        row = await self.book.remove(account_id, actor)
        if row is None:
            return False
        self.gateway.quotas.forget(row.label)
        return True

    def quota(self) -> list[dict[str, Any]]:
        now = self.gateway.timing().created
        return [r.public(now) for r in self.gateway.quotas.records()]

    async def refresh_quota(self) -> list[dict[str, Any]]:
        await self.book.poll_quotas()
        return self.quota()

    # --- providers ------------------------------------------------------------------------------

    async def providers(self) -> list[dict[str, Any]]:
        """Every catalog provider and every configured one: whether it is on, its address, how
        many keys it has and from where, its models (the subscriptions are under accounts)."""
        gateway = self.gateway
        models: dict[str, list[str]] = {}
        for entry in await gateway.models():
            models.setdefault(entry.provider, []).append(entry.id)
        live = {p.id: p.settings for p in gateway.providers if p.id not in SUBSCRIPTIONS}
        out = []
        for row in load_catalog().values():
            settings = live.pop(row.id, None)
            url = row.base_url or (row.default_url + row.url_path if row.default_url else "")
            error = gateway.sync.last_error(row.id)
            out.append(
                _provider_row(
                    row.id, row.name, row.local, settings, url, models, error, row.url_path if row.local else ""
                )
            )
        out.extend(
            _provider_row(s.id, s.name, s.local, s, s.base_url, models, gateway.sync.last_error(s.id))
            for s in live.values()
        )
        return out

    async def test_provider(self, provider_id: str) -> dict[str, Any]:
        """Ask the provider for its model list now: the probe behind a "Test" button. When it
        answers, the rests its keys were given (cooldowns, benches, its breaker) are lifted."""
        found = [p for p in self.gateway.providers if p.id == provider_id]
        if not found:
            raise RouteNotFound(f"{provider_id[:60]!r} is not configured: give it a key (or a URL) first.")
        ok = await self.gateway.sync.refresh(found)
        self._forgive_answering(found)
        listed = [e.id for e in await self.gateway.models() if e.provider == provider_id]
        return {"ok": ok, "models": len(listed), "error": None if ok else self.gateway.sync.last_error(provider_id)}

    async def rescan_local(self) -> list[dict[str, Any]]:
        """Ask every local model server for its models now (one started since is found at once);
        those that answer may serve again at once."""
        local = [p for p in self.gateway.providers if p.settings.local]
        await self.gateway.sync.refresh(local)
        self._forgive_answering(local)
        return await self.providers()

    def _forgive_answering(self, providers: list[ChatProvider]) -> None:
        for provider in providers:
            if self.gateway.sync.last_error(provider.id) is None:
                self.gateway.forgive(provider.id)

    # --- settings -------------------------------------------------------------------------------

    def _needs_settings_file(self) -> SettingsFile:
        if self.settings_file is None:
            raise RouteNotFound("This gateway was started without a config file it may edit.")
        return self.settings_file

    async def settings(self) -> dict[str, Any]:
        """The config file as written; what the running gateway reads from it is in status."""
        found = self._needs_settings_file()
        return {"file": str(found.path), "config": await asyncio.to_thread(found.read), "applies": APPLIES}

    async def change_settings(self, changes: list[Change], actor: str) -> dict[str, Any]:
        """Edit the config file; refused (``InvalidRequest``, the file untouched) when the gateway
        could not start from the result. Audited by the keys changed."""
        found = self._needs_settings_file()
        try:
            changed = await asyncio.to_thread(found.change, changes)
        except ConfigError as exc:
            raise InvalidRequest(str(exc), param="changes") from None
        if changed and self.state is not None:
            keys = sorted({f"{table}.{key}" for table, key, _ in changes})
            await asyncio.wrap_future(
                self.state.db.audit(actor, "config.edited", {"file": found.path.name, "keys": keys})
            )
        return {"changed": changed, "applies": APPLIES}

    # --- provider keys --------------------------------------------------------------------------

    def _known_provider(self, provider: str) -> str:
        if provider in load_catalog() or any(
            p.id == provider for p in self.gateway.providers if p.id not in SUBSCRIPTIONS
        ):
            return provider
        raise RouteNotFound(
            f"No provider {provider[:60]!r}: keys are kept for the catalog's providers and configured ones."
        )

    async def store_provider_keys(self, provider: str, keys: tuple[str, ...], actor: str) -> str:
        """Stored for the next start of the gateway (the app restarts it at once)."""
        return await asyncio.to_thread(
            store_provider_keys, self.needs_state(), self._known_provider(provider), keys, actor
        )

    async def drop_provider_keys(self, provider: str, actor: str) -> bool:
        return await asyncio.to_thread(drop_provider_keys, self.needs_state(), provider, actor)
