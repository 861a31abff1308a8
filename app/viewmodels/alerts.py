"""Which desktop notifications a new status brings: an account that needs signing in again, a
quota window passing 80 % or 95 %, every route of a model failing. Each is said once, and again
only after it cleared (an account signed in again, a window that reset)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.viewmodels.health import account_state, span

QUOTA_MARKS = (80.0, 95.0)


@dataclass(frozen=True, slots=True)
class Notice:
    title: str
    text: str
    urgent: bool = False


class Alerts:
    def __init__(self) -> None:
        self._standing: set[tuple[str, str]] = set()  # account and model problems said, still there
        self._marks: dict[tuple[str, str, Any], float] = {}  # quota window (and its reset) -> mark said

    def notices(self, status: Mapping[str, Any]) -> list[Notice]:
        out: list[Notice] = []
        standing: dict[tuple[str, str], Notice] = {}
        for account in status.get("accounts", []):
            if account.get("state", "ok") != "ok":
                standing[("account", f"{account['id']}:{account['state']}")] = Notice(
                    "Switchboard: account needs attention",
                    f"{account['label']} {account_state(account['state'])}. Open Accounts to sign in again.",
                    urgent=True,
                )
        for failing in status.get("failing", []):
            standing[("failing", failing["model"])] = Notice(
                f"Switchboard: {failing['model']} is failing", f"Every route failed: {failing['error']}", urgent=True
            )
        out.extend(notice for key, notice in standing.items() if key not in self._standing)
        self._standing = set(standing)

        marks: dict[tuple[str, str, Any], float] = {}
        for window in status.get("quota", []):
            if window.get("unlimited"):
                continue
            used = window.get("used_percent") or 0.0
            passed = max((m for m in QUOTA_MARKS if used >= m), default=0.0)
            key = (window["label"], window["window"], window.get("resets_at"))
            marks[key] = max(passed, self._marks.get(key, 0.0))
            if passed > self._marks.get(key, 0.0):
                resets = f"; it resets in {span(window['resets_in'])}" if window.get("resets_in") is not None else ""
                out.append(
                    Notice(
                        f"Switchboard: {window['label']} at {used:.0f} %",
                        f"The {window['window']} window is {used:.0f} % used{resets}.",
                        urgent=passed >= QUOTA_MARKS[-1],
                    )
                )
        self._marks = marks
        return out
