"""Which desktop notifications a new status brings: an account that needs signing in again, a
quota window passing 80 % or 95 % (none for a window already past its reset, such as one read back
from before a restart), every route of a model failing. Each is said once, and again only after it
cleared (an account signed in again, a window that reset)."""

from __future__ import annotations

from dataclasses import dataclass

from app.viewmodels.durations import span
from app.viewmodels.health import account_state
from app.viewmodels.meters import account_name, window_name
from gateway import StatusDocument

QUOTA_MARKS = (80.0, 95.0)
WindowPeriod = tuple[str, str, float | None]  # a quota window (label, name) and when it resets: one period of it


@dataclass(frozen=True, slots=True)
class Notice:
    title: str
    text: str
    urgent: bool = False


class Alerts:
    def __init__(self) -> None:
        self._standing: set[tuple[str, str]] = set()  # account and model problems said, still there
        self._marks: dict[WindowPeriod, float] = {}  # the mark said in each window period

    def notices(self, status: StatusDocument) -> list[Notice]:
        out: list[Notice] = []
        standing: dict[tuple[str, str], Notice] = {}
        for account in status.get("accounts", []):
            if account["state"] != "ok":
                standing[("account", f"{account['id']}:{account['state']}")] = Notice(
                    "Switchboard: account needs attention",
                    f"{account_name(account['label'])} {account_state(account['state'])}. "
                    "Open Accounts to sign in again.",
                    urgent=True,
                )
        for failing in status["failing"]:
            standing[("failing", failing["model"])] = Notice(
                f"Switchboard: {failing['model']} is failing", f"Every route failed: {failing['error']}", urgent=True
            )
        out.extend(notice for key, notice in standing.items() if key not in self._standing)
        self._standing = set(standing)

        marks: dict[WindowPeriod, float] = {}
        for window in status.get("quota", []):
            if window["unlimited"] or window["reset"]:  # a window that reset has nothing to warn of
                continue
            used = window["used_percent"]
            passed = max((m for m in QUOTA_MARKS if used >= m), default=0.0)
            key = (window["label"], window["window"], window["resets_at"])
            marks[key] = max(passed, self._marks.get(key, 0.0))
            if passed > self._marks.get(key, 0.0):
                resets_in = window["resets_in"]
                resets = f"; it resets in {span(resets_in)}" if resets_in is not None else ""
                out.append(
                    Notice(
                        f"Switchboard: {account_name(window['label'])} at {used:.0f} %",
                        f"{account_name(window['label'])} has used {used:.0f} % of its {window_name(window)}{resets}.",
                        urgent=passed >= QUOTA_MARKS[-1],
                    )
                )
        self._marks = marks
        return out
