"""Builders of the documents the gateway hands the app, for the view-model tests: each fills a
complete, valid TypedDict from the few parts a test is about, so the tests read the gateway's own
shapes (and mypy holds them to it) instead of partial dicts."""

from __future__ import annotations

from collections.abc import Sequence

from gateway import Access, AccountEntry, ClientKeyStatus, QuotaReading, StatusDocument
from gateway.pipeline.limits import LimitUsage
from gateway.pipeline.status import FailingModel, KeyStatus, ProviderStatus
from gateway.routing.breaker import State
from gateway.routing.health import Rest

NOW = 1_700_000_000.0  # seconds since the epoch


def status_document(
    *,
    providers: Sequence[ProviderStatus] = (),
    failing: Sequence[FailingModel] = (),
    accounts: Sequence[AccountEntry] | None = None,
    quota: Sequence[QuotaReading] | None = None,
    access: Access | None = None,
) -> StatusDocument:
    """A status with these parts, and nothing else to report: no aliases, an empty cache, no usage."""
    status: StatusDocument = {
        "providers": list(providers),
        "aliases": {},
        "failing": list(failing),
        "cache": {"enabled": False, "entries": 0, "bytes": 0, "hits": 0, "misses": 0},
        "usage": {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "cached_tokens": 0, "estimated": 0},
        "in_flight": 0,
    }
    if accounts is not None:
        status["accounts"] = list(accounts)
    if quota is not None:
        status["quota"] = list(quota)
    if access is not None:
        status["access"] = access
    return status


def provider_status(
    provider_id: str,
    name: str,
    *,
    breaker: State = "closed",
    keys: Sequence[KeyStatus] = (),
    models: int = 0,
    list_failure: str | None = None,
    host: str = "",
    seconds_to_probe: float | None = None,
) -> ProviderStatus:
    status: ProviderStatus = {
        "id": provider_id,
        "name": name,
        "host": host or f"api.{provider_id}.example",
        "rotation": "round-robin",
        "breaker": {"state": breaker, "failures": 0},
        "keys": list(keys),
        "models": models,
        "list_failure": list_failure,
    }
    if seconds_to_probe is not None:
        status["breaker"]["seconds_to_probe"] = seconds_to_probe
    return status


def key_status(label: str, *, benched: Rest | None = None) -> KeyStatus:
    return {
        "label": label,
        "key": "sk-…0001",
        "health": "benched" if benched else "ok",
        "benched": benched,
        "cooldowns": {},
        "attempts": 0,
        "successes": 0,
        "success_rate": None,
        "latency_ms": None,
        "last_error": None,
    }


def failing_model(model: str, error: str) -> FailingModel:
    return {"model": model, "error": error, "at_s": NOW}


def account(account_id: str, label: str, *, state: str = "ok") -> AccountEntry:
    """A Copilot account, signed in by the person at the machine."""
    return {
        "id": account_id,
        "kind": "copilot",
        "label": label,
        "subject": label.partition(":")[2],
        "email": "",
        "plan": "individual",
        "state": state,
        "origin": "login",
        "sync_path": "",
        "created_at": NOW,
        "updated_at": NOW,
        "provider": "copilot",
        "risk": "subscription-terms",
        "risk_note": "",
    }


def quota_reading(
    label: str,
    window: str,
    used_percent: float,
    *,
    unlimited: bool = False,
    entitlement: float | None = None,
    remaining: float | None = None,
    resets_at: float = NOW + 3600,
) -> QuotaReading:
    """A window as the gateway reports it, read at ``NOW``."""
    return {
        "label": label,
        "provider": label.partition(":")[0],
        "window": window,
        "window_seconds": None,
        "used_percent": used_percent,
        "unlimited": unlimited,
        "entitlement": entitlement,
        "remaining": remaining,
        "resets_at": resets_at,
        "resets_in": round(resets_at - NOW),
        "exhausted_at": None,
        "taken_at": NOW,
        "reset": False,
    }


def client_key(key_id: str, label: str, usage: dict[str, LimitUsage]) -> ClientKeyStatus:
    """A live client key with its counters against its limits."""
    return {
        "id": key_id,
        "label": label,
        "prefix": f"sk-sb-{key_id}",
        "last4": "0001",
        "tier": "default",
        "limits": {},
        "created_at": NOW,
        "last_used": None,
        "revoked_at": None,
        "usage": usage,
    }


def access(
    keys: Sequence[ClientKeyStatus] = (), *, anchor_problem: str | None = None, ledger_write_failures: int = 0
) -> Access:
    return {
        "require_keys": False,
        "keys": list(keys),
        "secrets": {"kind": "memory", "where": "this process"},
        "audit": {"anchor_problem": anchor_problem},
        "ledger_write_failures": ledger_write_failures,
    }
