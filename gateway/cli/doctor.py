"""``doctor``: check everything (gateway.admin.doctor) from the command line, one line a finding with
its fix, over the state folder and settings a gateway would serve; the gateway need not be running.
Exit code 1 when something is broken; ``--json`` prints the findings as a list."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

from gateway.admin.doctor import Finding, broken, check_everything
from gateway.admin.doctor_team import TeamPlaces
from gateway.auth.account_book import AccountBook
from gateway.cli.common import fail, open_state
from gateway.cli.fixes import command_for
from gateway.clock import SystemClock
from gateway.config.settings import Settings
from gateway.errors import ConfigError, Fix
from gateway.ids import RequestIds
from gateway.paths import StatePaths
from gateway.runtime.upstream import upstream_transport
from gateway.runtime.wiring import build_gateway
from gateway.store import accounts as account_rows
from gateway.store.database import Database
from gateway.store.db import StoreError
from gateway.store.secrets import SecretStore

MARKS = {"ok": "ok    ", "note": "note  ", "broken": "BROKEN"}


def cmd_doctor(args: argparse.Namespace, settings: Settings, paths: StatePaths) -> int:
    try:
        state = open_state(paths, args.secret_store)
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    try:
        findings = asyncio.run(_check(settings, state.db, args.secret_store))
    finally:
        state.close()
    print(json.dumps(findings, indent=2) if args.json else "\n".join(line(f) for f in findings))
    return 1 if broken(findings) else 0


async def _check(settings: Settings, db: Database, secrets: SecretStore) -> list[Finding]:
    transport = upstream_transport(settings)
    clock = SystemClock()
    try:
        gateway = build_gateway(settings, transport, clock, RequestIds())
        book = AccountBook(db, secrets, clock, settings.subscriptions, transport)
        await asyncio.to_thread(book.load)
        for kind in account_rows.KINDS:  # as a serving gateway does: the subscriptions' models through them
            gateway.serve_accounts(kind, book.accounts(kind))
        server = settings.server
        return await check_everything(
            *(gateway, book, (secrets.kind, secrets.where), (server.host, server.port)),
            serving=False,
            team=TeamPlaces.of(settings, secrets, os.environ),
        )
    finally:
        await transport.aclose()


def line(finding: Finding) -> str:
    """One finding for a terminal: its mark, its words, and the command (or words) that fix it."""
    fix = finding["fix"]
    advice = command_for(Fix(fix, finding["fix_subject"])) if fix is not None else finding["advice"]
    return f"{MARKS[finding['verdict']]}  {finding['words']}" + (f" {advice}" if advice else "")


def add_doctor_command(sub: Any, common: argparse.ArgumentParser) -> None:
    doctor = sub.add_parser(
        "doctor", parents=[common], help="check everything: providers, rules, accounts, port, a team's database, Redis"
    )
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    doctor.set_defaults(func=cmd_doctor)
