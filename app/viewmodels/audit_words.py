"""The audit log in words: each event the gateway audits, said as what changed ("OpenAI address
set to https://…", "Client key 'laptop' revoked") and by whom; the raw entry stays for Details.

A key's later events carry only its id, so its name is read from the event that created it (the
log is read whole). Providers are named as the status names them; one not known is named by id."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from gateway import AuditEntry

SERVICES = {"codex": "ChatGPT", "copilot": "GitHub Copilot"}
WHO = {
    "app": "You, in the app",
    "cli": "The command line",
    "admin": "The administrator",
    "gateway": "Switchboard",
    "environment": "The settings at start",
    "anonymous": "Someone unknown",
}
SETTINGS = {  # a setting of the file, by table and key, as people call it
    "server.port": "Port",
    "server.host": "Listening address",
    "server.require_keys": "Client keys required on this computer too",
    "server.log_level": "Log detail",
    "server.allowed_hosts": "Other names for this computer",
    "server.cors_origins": "Web pages allowed to call",
    "server.ledger": "Keeping a record of requests",
    "app.theme": "Theme",
    "app.check_updates": "Checking for updates",
}
PROVIDER_SETTINGS = {"base_url": "address", "enabled": "on or off", "keys": "keys", "rotation": "key rotation"}
LIMITS = {
    "requests_per_minute": "requests a minute",
    "requests_per_day": "requests a day",
    "tokens_per_minute": "tokens a minute",
    "tokens_per_day": "tokens a day",
}
BUDGETS = {"dollars_per_day": "a day", "dollars_per_month": "a month (30 days)"}


class AuditLine(TypedDict):
    seq: int
    ts_ms: int
    action: str  # as the gateway names the event
    who: str
    what: str  # what happened, in words
    details: str  # the raw entry: action and payload, as written


@dataclass(frozen=True, slots=True)
class _Names:
    providers: Mapping[str, str]
    keys: Mapping[str, str]  # client key id -> its label

    def provider(self, provider_id: Any) -> str:
        return self.providers.get(str(provider_id), str(provider_id))

    def key(self, key_id: Any) -> str:
        label = self.keys.get(str(key_id))
        return f"Client key '{label}'" if label else f"Client key {key_id}"


def audit_lines(entries: Sequence[AuditEntry], providers: Mapping[str, str]) -> list[AuditLine]:
    """Each entry in words, in the order given; ``providers``: provider id -> name."""
    created = (e["payload"] for e in entries if e["action"] == "key.created")
    keys = {str(p.get("key")): str(p.get("label")) for p in created}
    names = _Names(providers, keys)
    return [
        {
            "seq": e["seq"],
            "ts_ms": e["ts_ms"],
            "action": e["action"],
            "who": WHO.get(e["actor"], e["actor"]),
            "what": what_happened(e["action"], e["payload"], names),
            "details": json.dumps(
                {"action": e["action"], **e["payload"]}, ensure_ascii=False, sort_keys=True, indent=2
            ),
        }
        for e in entries
    ]


def what_happened(action: str, payload: Mapping[str, Any], names: _Names) -> str:
    said = SAYING.get(action)
    if said is None:  # an event this app does not know yet: its name, readable
        return action.replace(".", ": ", 1).replace("_", " ").capitalize()
    return said(payload, names)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _setting_name(name: str, names: _Names) -> str:
    table, _, key = name.rpartition(".")
    if table.startswith("providers."):
        return f"{names.provider(table.removeprefix('providers.'))} {PROVIDER_SETTINGS.get(key, key.replace('_', ' '))}"
    if table == "aliases":
        return f"Model name '{key}'"
    return SETTINGS.get(name, name.replace("_", " ").replace(".", ": ").capitalize())


def _setting(name: str, value: Any, names: _Names) -> str:
    """One setting's change: "OpenAI address set to …", "Theme back to its default"."""
    table, _, key = name.rpartition(".")
    if table.startswith("providers.") and key == "enabled" and isinstance(value, bool):
        return f"{names.provider(table.removeprefix('providers.'))} switched {_value(value)}"
    what = _setting_name(name, names)
    return f"{what} back to its default" if value is None else f"{what} set to {_value(value)}"


def _edited(payload: Mapping[str, Any], names: _Names) -> str:
    values: Mapping[str, Any] = payload.get("values") or {}  # older entries name the settings only
    changes = [
        _setting(name, values[name], names) if name in values else f"{_setting_name(name, names)} changed"
        for name in payload.get("keys", [])
    ]
    said = "; ".join(changes) or "Settings changed"
    return said if payload.get("applied", True) else f"{said} (used from the next start)"


def _bind(bind: Mapping[str, Any]) -> str:
    return f"{bind.get('host')}:{bind.get('port')}"


def _account(payload: Mapping[str, Any]) -> str:
    service = SERVICES.get(str(payload.get("kind")), "")
    return f"{service} account '{payload.get('label')}'".strip()


def _connected(payload: Mapping[str, Any], _: _Names) -> str:
    plan = f" ({payload['plan']} plan)" if payload.get("plan") else ""
    return f"{_account(payload)} {'signed in again' if payload.get('again') else 'signed in'}{plan}"


def _imported(payload: Mapping[str, Any], _: _Names) -> str:
    plan = f" ({payload['plan']} plan)" if payload.get("plan") else ""
    return f"{_account(payload)} imported from a login on this computer{plan}"


def _limit(name: str, value: Any) -> str:
    """ "30 requests a minute"; a budget, written as text in the log (it holds no floats): "a budget of $5.00 a day"."""
    if name in BUDGETS:
        try:
            return f"a budget of ${float(value):,.2f} {BUDGETS[name]}"
        except ValueError:
            return f"a budget of {value} {BUDGETS[name]}"
    return f"{value:,} {LIMITS.get(name, name)}"


def _listed(payload: Mapping[str, Any]) -> str:
    """A key's own limits and budgets, said: "30 requests a minute, a budget of $5.00 a day"."""
    limits: Mapping[str, Any] = payload.get("limits") or {}
    return ", ".join(_limit(k, n) for k, n in limits.items() if isinstance(n, int) or k in BUDGETS)


def _limits(payload: Mapping[str, Any], names: _Names) -> str:
    listed = _listed(payload)
    return f"{names.key(payload.get('key'))} now has the {payload.get('tier')} limits" + (
        f": {listed}" if listed else ""
    )


def _key_created(payload: Mapping[str, Any], names: _Names) -> str:
    listed = _listed(payload)
    return f"{names.key(payload.get('key'))} created ({payload.get('tier')} limits" + (
        f", {listed})" if listed else ")"
    )


def _counts(per: Mapping[str, Any], name: Callable[[str], str]) -> str:
    return ", ".join(f"{name(k)} ({n:,})" for k, n in per.items())


def _stored(payload: Mapping[str, Any], names: _Names) -> str:
    count = payload.get("keys", 1)
    keys = "Provider key" if count == 1 else f"{count} provider keys"
    return f"{keys} for {names.provider(payload.get('provider'))} stored"


SAYING: dict[str, Callable[[Mapping[str, Any], _Names], str]] = {
    "gateway.started": lambda p, _: f"Switchboard started, listening on {_bind(p)}",
    "lan_mode.on": lambda p, _: f"Other computers on the network may connect now (listening on {p.get('host')})",
    "lan_mode.off": lambda p, _: "Only this computer may connect now",
    "config.bind_changed": lambda p, _: f"Listening address changed from {_bind(p['before'])} to {_bind(p['after'])}",
    "config.edited": _edited,
    "config.changed": lambda p, _: f"The settings file ({p.get('file')}) had changed since the last start",
    "provider.key_stored": _stored,
    "provider.key_removed": lambda p, n: f"Provider key for {n.provider(p.get('provider'))} removed",
    "key.created": _key_created,
    "proxy.password_stored": lambda p, _: f"Password for the proxy {p.get('proxy')} kept in the secret store",
    "key.revoked": lambda p, n: f"{n.key(p.get('key'))} revoked",
    "key.limits_changed": _limits,
    "account.connected": _connected,
    "account.imported": _imported,
    "account.removed": lambda p, _: f"{_account(p)} removed",
    "oauth.refresh_failed": lambda p, _: f"'{p.get('label')}' needs signing in again: {p.get('message')}",
    "admin.created": lambda p, _: "Administrator password set",
    "admin.password_changed": lambda p, _: "Administrator password changed",
    "admin.login": lambda p, _: f"Administrator signed in from {p.get('peer')}",
    "admin.login_failed": lambda p, _: f"A wrong administrator password was tried from {p.get('peer')}",
    "admin.refresh_reuse": lambda p, _: "A sign-in was ended: its renewal was used twice (it may have been copied)",
    "state.moved": lambda p, _: f"Switchboard's settings and data moved to {p.get('to')}",
    "limits.denied": lambda p, n: f"Requests refused over their limits: {_counts(p.get('per_caller', {}), n.key)}",
    "auth.failed": lambda p, _: f"Requests with a wrong or revoked key, from: {_counts(p.get('per_peer', {}), str)}",
}
