"""The status document: the request pipeline's own part (providers and keys with their health,
aliases, the cache, usage counted so far) and, around it, what the administrator adds — requests
in flight, client keys with their live counters, where secrets are kept, the audit anchor, and with
accounts their quota windows. Nothing secret. One builder for the app, ``GET /v1/status`` and
``python -m gateway status``.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict, cast

from gateway.admin.state import State
from gateway.auth.account_book import AccountEntry
from gateway.auth.identity import Identity
from gateway.auth.login_flows import LoginFlows
from gateway.pipeline.gateway import Gateway
from gateway.pipeline.in_flight import InFlight
from gateway.pipeline.limits import LimitUsage
from gateway.pipeline.status import PipelineStatus
from gateway.routing.quota import QuotaReading
from gateway.store.keys import ClientKey
from gateway.store.ledger import NamedTotals
from gateway.transport.http1 import Http1Transport
from gateway.transport.proxies import Proxy, UnusableProxy


class ClientKeyStatus(ClientKey):
    usage: NotRequired[dict[str, LimitUsage]]  # a live key's counters against its limits, by limit name


class SecretsPlace(TypedDict):
    kind: str  # "keychain", "file" or "memory"
    where: str


class AuditAnchor(TypedDict):
    anchor_problem: str | None  # why the end of the audit log cannot be vouched for, if it cannot


class Access(TypedDict):
    require_keys: bool
    keys: list[ClientKeyStatus]
    secrets: SecretsPlace
    audit: AuditAnchor
    ledger_write_failures: int


class NetworkStatus(TypedDict):
    """How providers are reached, for Settings to show: the proxy an https provider without its own
    setting goes through (its address, never its credentials; None: directly, or through none when
    there is a ``problem``) and what said so."""

    proxy: str | None
    source: Literal["settings", "environment", "none"]
    problem: NotRequired[str]  # that proxy cannot be used (the environment's): why, in words; its calls fail


class Today(TypedDict):
    """Added by the app to the status it shows: today's requests, tokens and busiest models."""

    requests: int
    tokens: int
    models: list[NamedTotals]  # the busiest, by tokens


class StatusDocument(PipelineStatus):
    """The pipeline's part (``gateway.pipeline.status``), and around it:"""

    # What the admin adds around it:
    in_flight: int
    access: NotRequired[Access]  # with a database
    accounts: NotRequired[list[AccountEntry]]  # with a database: subscription accounts
    quota: NotRequired[list[QuotaReading]]
    today: NotRequired[Today]
    network: NotRequired[NetworkStatus]  # with the gateway's own transport (tests may hand in another)


def quota_windows(gateway: Gateway) -> list[QuotaReading]:
    now = gateway.timing().created
    return [r.public(now) for r in gateway.quotas.records()]


def status_document(
    gateway: Gateway, in_flight: InFlight, state: State | None, identity: Identity | None, flows: LoginFlows | None
) -> StatusDocument:
    part = gateway.status()
    status: StatusDocument = {
        "providers": part["providers"],
        "aliases": part["aliases"],
        "failing": part["failing"],
        "cache": part["cache"],
        "usage": part["usage"],
        "in_flight": in_flight.count,
    }
    if isinstance(gateway.transport, Http1Transport):
        chosen = gateway.transport.proxy_in_use()
        proxy = chosen.proxy
        network: NetworkStatus = {"proxy": proxy.url if isinstance(proxy, Proxy) else None, "source": chosen.source}
        if isinstance(proxy, UnusableProxy):
            network["problem"] = proxy.problem
        status["network"] = network
    if state is not None:
        limits = gateway.accounting.limits
        keys: list[ClientKeyStatus] = []
        for key in state.keys.listing():
            caller = state.keys.caller(key["id"]) if key["revoked_at"] is None else None
            # A revoked key counts nothing more, so it has no counters (nor meters): the listing's row as it is.
            keys.append(ClientKeyStatus(**key, usage=limits.usage(caller)) if caller else cast(ClientKeyStatus, key))
        status["access"] = {
            "require_keys": bool(identity and identity.require_keys),
            "keys": keys,
            "secrets": {"kind": state.secrets.kind, "where": state.secrets.where},
            "audit": {"anchor_problem": state.db.anchor_problem},
            "ledger_write_failures": state.db.writer.failures,
        }
    if flows is not None:
        status["accounts"] = flows.book.listing()
        status["quota"] = quota_windows(gateway)
    return status
