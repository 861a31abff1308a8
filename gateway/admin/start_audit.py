"""What a start, or an address changed live, adds to the audit log, against what this gateway
last recorded: the start itself; a change of address, LAN mode or need for client keys against
its last bind (a start's or a live change's); a change of the config file against its last start.

The same on both back ends: the state folder's database holds one gateway's events, the team's
holds every gateway's, so there each event names its gateway (``gateway``: an id kept in its state
folder; ``machine``: the host's name, for whoever reads the log) and the last bind and start
looked for are that gateway's own: two gateways listening on two addresses do not each see a bind
change at every start.
"""

from __future__ import annotations

import secrets
import socket
from pathlib import Path
from typing import Any

from gateway.store.seam import Event

STARTED = "gateway.started"
BIND_CHANGED = "config.bind_changed"
ID_FILE = "gateway-id"  # in the state folder: this gateway's id in a team's audit chain


def bind_of(action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Where the gateway listened, and how, as an event of ``action`` recorded it."""
    bind = payload if action == STARTED else payload.get("after")
    return bind if isinstance(bind, dict) else None


def bind_events(now_ms: int, last: dict[str, Any] | None, bind: dict[str, Any]) -> list[Event]:
    """The events for a bind that differs from ``last`` (none recorded: none): LAN mode switched,
    and the change itself (whose ``after`` is then the last bind recorded)."""
    if last is None:
        return []
    events = []
    if last.get("lan") != bind["lan"]:
        action = "lan_mode.on" if bind["lan"] else "lan_mode.off"
        events.append(Event(now_ms, "gateway", action, {"host": bind["host"]}))
    if any(last.get(name) != bind[name] for name in ("host", "port", "require_keys")):
        events.append(Event(now_ms, "gateway", BIND_CHANGED, {"before": last, "after": bind}))
    return events


def start_events(
    now_ms: int,
    bind: dict[str, Any],
    config_name: str | None,
    last_start: dict[str, Any] | None,
    last_bind: dict[str, Any] | None,
) -> list[Event]:
    """The start (``bind`` its payload, the config file's digest in it), then what changed since."""
    events = [Event(now_ms, "gateway", STARTED, bind), *bind_events(now_ms, last_bind, bind)]
    digest = bind["config_sha256"]
    if last_start is not None and "config_sha256" in last_start and last_start["config_sha256"] != digest:
        change = {"file": config_name, "before": last_start["config_sha256"], "after": digest}
        events.append(Event(now_ms, "gateway", "config.changed", change))
    return events


def named(events: list[Event], gateway: str) -> list[Event]:
    """``events`` as a team's chain keeps them: each names the gateway it is about, and its machine."""
    names = {"gateway": gateway, "machine": socket.gethostname()}
    return [Event(e.ts, e.actor, e.action, {**e.payload, **names}) for e in events]


def gateway_id(data_dir: Path) -> str:
    """This gateway's id in a team's chain, made once in its state folder: a restart, even in a new
    container under a new host name, is the same gateway. Blocking (a file)."""
    path = data_dir / ID_FILE
    try:
        made = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        made = ""
    if not made:
        made = secrets.token_hex(8)
        path.write_text(made + "\n", encoding="ascii")
    return made
