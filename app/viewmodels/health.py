"""The gateway's health at a glance: the tray icon's state and the list of problems, from the
status document (``Control.status()``)."""

from __future__ import annotations

from dataclasses import dataclass

from app.viewmodels.provider_state import provider_problems
from gateway import StatusDocument

SERVING, DEGRADED, STOPPED, PAUSED = "serving", "degraded", "stopped", "paused"

ACCOUNT_STATES = {
    "needs_sign_in": "needs sign-in",
    "no_access": "has no access to this service",
}


@dataclass(frozen=True, slots=True)
class Health:
    state: str  # SERVING, DEGRADED, STOPPED or PAUSED
    summary: str  # one line for the tooltip and the overview
    problems: tuple[str, ...] = ()


def account_state(state: str) -> str:
    return "ok" if state == "ok" else ACCOUNT_STATES.get(state, state.replace("_", " "))


def problems(status: StatusDocument) -> list[str]:
    """Every thing in the status a person should act on or know, in words."""
    found = provider_problems(status["providers"])  # in the Providers page's words
    for account in status.get("accounts", []):
        if account["state"] != "ok":
            found.append(f"{account['label']} {account_state(account['state'])}")
    found.extend(f"every route for {f['model']} failed: {f['error']}" for f in status["failing"])
    if (access := status.get("access")) is not None:
        if anchor_problem := access["audit"]["anchor_problem"]:
            found.append(f"audit log: {anchor_problem}")
        if access["ledger_write_failures"]:
            found.append(f"{access['ledger_write_failures']} usage record(s) could not be written")
    return found


def health_of(status: StatusDocument | None, *, running: bool, paused: bool, error: str = "") -> Health:
    if paused:
        return Health(PAUSED, "Paused: not answering requests")
    if not running:
        return Health(STOPPED, f"Stopped: {error}" if error else "Stopped", (error,) if error else ())
    found = tuple(problems(status)) if status is not None else ()  # just started, no status yet: no problem known
    if found:
        return Health(DEGRADED, f"Serving, {len(found)} problem{'s' if len(found) > 1 else ''}", found)
    return Health(SERVING, "Serving")
