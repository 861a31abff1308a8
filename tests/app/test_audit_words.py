"""The audit log in words: each event the gateway audits is said as what changed, with the raw
entry kept for Details; a key's name is found from the event that created it; and no audit event
written anywhere in the gateway is left without words."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from app_fixtures import MakeApp
from pytestqt.qtbot import QtBot

from app.viewmodels.audit_words import SAYING, audit_lines
from app.windows.audit import AuditPage
from gateway import AuditEntry

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
EVENT = re.compile(r"^[a-z]+(_[a-z]+)*\.[a-z]+(_[a-z]+)*$")
PROVIDERS = {"openai": "OpenAI", "groq": "Groq"}
WAIT = 15_000


def _entry(seq: int, action: str, payload: dict[str, Any], actor: str = "app") -> AuditEntry:
    return {"seq": seq, "ts_ms": 1_700_000_000_000 + seq, "actor": actor, "action": action, "payload": payload}


def _said(*entries: AuditEntry) -> list[str]:
    return [line["what"] for line in audit_lines(list(entries), PROVIDERS)]


def audited_events() -> set[str]:
    """Every event name the gateway passes to an audit call (or names as an ``action`` for one)."""
    found: set[str] = set()
    for path in GATEWAY.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "audit" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            calls_audit = isinstance(node, ast.Call) and "audit" in ast.unparse(node.func)
            names_action = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "action" for t in node.targets
            )
            if calls_audit or names_action:
                found |= {
                    c.value
                    for c in ast.walk(node)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str) and EVENT.match(c.value)
                }
    return found


def test_every_event_the_gateway_audits_has_words() -> None:
    events = audited_events()
    assert {"key.revoked", "config.edited", "provider.key_stored", "account.removed"} <= events  # the scan works
    assert sorted(events - set(SAYING)) == []


def test_settings_changes_say_what_was_set_to_what() -> None:
    edited = _entry(
        1,
        "config.edited",
        {
            "file": "config.toml",
            "keys": ["app.theme", "providers.openai.base_url", "providers.groq.enabled"],
            "values": {
                "providers.openai.base_url": "https://api.example/v1",
                "app.theme": None,
                "providers.groq.enabled": False,
            },
            "applied": True,
        },
    )
    older = _entry(2, "config.edited", {"file": "config.toml", "keys": ["server.port"], "applied": False})
    assert _said(edited, older) == [
        "Theme back to its default; OpenAI address set to https://api.example/v1; Groq switched off",
        "Port changed (used from the next start)",  # an entry from before values were kept
    ]


def test_keys_and_accounts_are_named() -> None:
    entries = [
        _entry(3, "key.revoked", {"key": "k1"}),
        _entry(2, "key.limits_changed", {"key": "k1", "tier": "custom", "limits": {"requests_per_minute": 30}}),
        _entry(1, "key.created", {"key": "k1", "label": "laptop", "tier": "free"}),
        _entry(4, "provider.key_stored", {"provider": "openai", "keys": 1}),
        _entry(5, "provider.key_stored", {"provider": "mistral", "keys": 2}),
        _entry(6, "provider.key_removed", {"provider": "groq"}),
        _entry(
            7, "account.imported", {"id": "a", "kind": "codex", "label": "codex:ada", "plan": "plus", "again": False}
        ),
        _entry(8, "account.removed", {"id": "a", "kind": "copilot", "label": "copilot:octocat"}),
        _entry(9, "limits.denied", {"per_caller": {"k1": 3}}, actor="gateway"),
        _entry(10, "key.limits_changed", {"key": "k1", "tier": "free", "limits": {"dollars_per_day": "2.5"}}),
        _entry(11, "key.created", {"key": "k2", "label": "ci", "tier": "standard", "limits": {"dollars_per_day": "1"}}),
    ]
    assert _said(*entries) == [
        "Client key 'laptop' revoked",
        "Client key 'laptop' now has the custom limits: 30 requests a minute",
        "Client key 'laptop' created (free limits)",
        "Provider key for OpenAI stored",
        "2 provider keys for mistral stored",  # a provider the status does not list: its id
        "Provider key for Groq removed",
        "ChatGPT account 'codex:ada' imported from a login on this computer (plus plan)",
        "GitHub Copilot account 'copilot:octocat' removed",
        "Requests refused over their limits: Client key 'laptop' (3)",
        "Client key 'laptop' now has the free limits: a budget of $2.50 a day",
        "Client key 'ci' created (standard limits, a budget of $1.00 a day)",  # a budget set as it is made
    ]


def test_who_and_the_raw_entry_for_details() -> None:
    bind = {"host": "127.0.0.1", "port": 11488, "require_keys": False, "lan": False, "config_sha256": None}
    (line,) = audit_lines([_entry(1, "gateway.started", bind, actor="gateway")], PROVIDERS)
    assert line["who"] == "Switchboard" and line["what"] == "Switchboard started, listening on 127.0.0.1:11488"
    assert json.loads(line["details"]) == {"action": "gateway.started", **bind}
    (unknown,) = audit_lines([_entry(2, "tool.set_up", {"tool": "codex"}, actor="cli")], PROVIDERS)
    assert unknown["what"] == "Tool: set up" and unknown["who"] == "The command line"


def test_the_audit_page_shows_words_and_the_chosen_entry_under_details(qtbot: QtBot, make_app: MakeApp) -> None:
    app = make_app()
    control = app.host.control
    assert control is not None
    app.host.submit(lambda: control.create_key("laptop", "free", {}, "app")).result(10)
    page = app.window.go(AuditPage.title)
    assert isinstance(page, AuditPage)
    said = "Client key 'laptop' created (free limits)"
    qtbot.waitUntil(lambda: any(r["what"] == said for r in page.model.rows), timeout=WAIT)
    page.filter.setText("laptop")
    assert page.proxy.rowCount() == 1
    page.view.selectRow(0)
    assert json.loads(page.entry.toPlainText())["action"] == "key.created"
    assert page.proxy.index(0, 2).data() == "You, in the app"
