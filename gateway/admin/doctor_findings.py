"""One finding of the doctor (``gateway.admin.doctor``): what was found and what would help, in
plain words, with a fix each front-end words its own way where one fits."""

from __future__ import annotations

from typing import Literal, TypedDict

from gateway.errors import FixId

Verdict = Literal["ok", "note", "broken"]  # a note is worth knowing; only "broken" fails the check


class Finding(TypedDict):
    area: str  # "provider", "local", "rule", "account", "port", "secrets", "clock", "context", "database", "redis"
    subject: str  # what it is about: a provider's id, a rule's name, an account's label, a port, an address
    verdict: Verdict
    words: str  # what was found, in plain words
    advice: str  # what would help, in plain words ("" when nothing needs doing)
    fix: FixId | None  # the same as a fix each front-end words its own way, where one fits
    fix_subject: str


def finding(
    area: str, subject: str, verdict: Verdict, words: str, advice: str = "", fix: FixId | None = None, on: str = ""
) -> Finding:
    return {
        "area": area,
        "subject": subject,
        "verdict": verdict,
        "words": words,
        "advice": advice,
        "fix": fix,
        "fix_subject": on,
    }


def broken(findings: list[Finding]) -> bool:
    return any(f["verdict"] == "broken" for f in findings)
