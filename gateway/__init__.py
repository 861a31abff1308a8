"""Switchboard's gateway: an asyncio LLM gateway, importable and runnable without Qt.

This module is the public surface the tray app uses; everything else is internal. The shapes
the app reads from the gateway are TypedDicts exported here; times carry their unit in the name
(``at_s``, ``start_s``, ``ts_ms``; plain ``*_at`` fields are seconds since the epoch).
"""

import typing as _typing

from gateway.admin.accounts import AccountListing
from gateway.admin.client_keys import CreatedKey
from gateway.admin.control import Control
from gateway.admin.discovery import Found
from gateway.admin.doctor import Finding
from gateway.admin.models import ModelRow
from gateway.admin.provider_keys import KeyChange
from gateway.admin.providers import ProviderRow, ProviderTest
from gateway.admin.relocation import MOVABLE
from gateway.admin.rules import RuleDoc, RulesRead, rule_doc
from gateway.admin.servers import SERVER_KINDS, ServerAdded, ServerDefinition
from gateway.admin.settings import SettingsEdit, SettingsRead, app_only
from gateway.admin.status import Access, ClientKeyStatus, NetworkStatus, StatusDocument, Today
from gateway.admin.tool_setup import Places as ToolPlaces
from gateway.admin.tool_setup import Target as ToolTarget
from gateway.admin.tool_setup import ToolSetup, ToolSetupError, ToolState
from gateway.admin.tool_setup.claude_code import environment as claude_code_environment
from gateway.admin.usage import UsageReport
from gateway.auth.account_book import AccountEntry
from gateway.auth.login_flows import FlowDoc
from gateway.config.editing import Change
from gateway.config.loading import load_settings
from gateway.config.settings import LOG_LEVELS, THEMES, NetworkSettings, Settings
from gateway.core.durations import span
from gateway.errors import ConfigError, Fix, FixId, GatewayError, fix_of
from gateway.paths import StatePaths, platform_paths, resolve_paths
from gateway.pipeline.status import ProviderStatus
from gateway.routing.quota import QuotaReading
from gateway.runtime.launch import GatewaySetup
from gateway.runtime.listener import free_port
from gateway.runtime.logs import start_logging
from gateway.runtime.server import GatewayServer, ListenError
from gateway.runtime.tuning import new_event_loop, tune_for_serving
from gateway.store.accounts import AccountPublic
from gateway.store.audit import AuditEntry, VerdictDoc
from gateway.store.keys import ClientKey
from gateway.store.ledger import NamedSpanTotals, NamedTotals, RecentRow, SpanTotals, Totals
from gateway.store.secrets import SecretsUnreadable
from gateway.store.secrets import opener_from as secrets_opener
from gateway.store.secrets import place_of as secrets_place
from gateway.transport.proxies import Proxy
from gateway.transport.trust import tls_context
from gateway.version import __version__

if _typing.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "LOG_LEVELS",
    "MOVABLE",
    "SERVER_KINDS",
    "THEMES",
    "Access",
    "AccountEntry",
    "AccountListing",
    "AccountPublic",
    "AuditEntry",
    "Change",
    "ClientKey",
    "ClientKeyStatus",
    "ConfigError",
    "Control",
    "CreatedKey",
    "Finding",
    "Fix",
    "FixId",
    "FlowDoc",
    "Found",
    "GatewayError",
    "GatewayServer",
    "GatewaySetup",
    "KeyChange",
    "ListenError",
    "ModelRow",
    "NamedSpanTotals",
    "NamedTotals",
    "NetworkSettings",
    "NetworkStatus",
    "ProviderRow",
    "ProviderStatus",
    "ProviderTest",
    "Proxy",
    "QuotaReading",
    "RecentRow",
    "RuleDoc",
    "RulesRead",
    "SecretsUnreadable",
    "ServerAdded",
    "ServerDefinition",
    "Settings",
    "SettingsEdit",
    "SettingsRead",
    "SpanTotals",
    "StatePaths",
    "StatusDocument",
    "Today",
    "ToolPlaces",
    "ToolSetup",
    "ToolSetupError",
    "ToolState",
    "ToolTarget",
    "Totals",
    "UsageReport",
    "VerdictDoc",
    "__version__",
    "app_only",
    "claude_code_environment",
    "fix_of",
    "free_port",
    "load_settings",
    "new_event_loop",
    "platform_paths",
    "resolve_paths",
    "rule_doc",
    "run_headless",
    "run_self_test",
    "secrets_opener",
    "secrets_place",
    "span",
    "start_logging",
    "tls_context",
    "tune_for_serving",
]


def run_self_test(more: "Sequence[tuple[str, Callable[[], str]]]" = ()) -> int:
    """``--self-test``: the bundled pieces, and a gateway on a free port asked for /health and
    /v1/models, and ``more`` checks (the app's); 0 when all pass."""
    from gateway.runtime.self_test import run

    return run(more)


def run_headless(argv: list[str] | None = None) -> int:
    """The headless gateway's command line, as ``python -m gateway`` runs it."""
    from gateway.cli.main import main

    return main(argv)
