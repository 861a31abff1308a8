"""``doctor``: check everything (gateway.admin.doctor) from the command line, one line a finding with
its fix, over the state folder and settings a gateway would serve (in team mode, the team's accounts);
the gateway need not be running.
Exit code 1 when something is broken; ``--json`` prints the findings as a list."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from typing import Any

from gateway.admin import doctor_findings
from gateway.admin.doctor import Finding, broken, check_everything
from gateway.admin.doctor_team import TeamPlaces
from gateway.auth.account_book import AccountBook
from gateway.cli.common import accounts_where_kept, fail, open_state
from gateway.cli.fixes import command_for
from gateway.clock import SystemClock
from gateway.config.settings import Settings
from gateway.errors import ConfigError, Fix
from gateway.ids import RequestIds
from gateway.paths import StatePaths
from gateway.runtime.team import Team
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
    # In team mode, an account's lapsed token is renewed under the lock the team's gateways hold.
    team = await asyncio.to_thread(Team.made, settings, clock, secrets) if settings.store.url is not None else None
    try:
        gateway = build_gateway(settings, transport, clock, RequestIds())
        book = AccountBook(db, secrets, clock, settings.subscriptions, transport, team.renewal_lock() if team else None)
        await asyncio.to_thread(book.load)
        async with contextlib.AsyncExitStack() as stack:
            unread: StoreError | None = None
            try:  # the team's accounts, as its gateways serve them
                await stack.enter_async_context(accounts_where_kept(book, settings.store.url, secrets))
            except StoreError as exc:
                unread = exc
            for kind in account_rows.KINDS:  # as a serving gateway does: the subscriptions' models through them
                gateway.serve_accounts(kind, book.accounts(kind) if unread is None else [])
            server = settings.server
            found = await check_everything(
                *(gateway, None if unread else book, (secrets.kind, secrets.where), (server.host, server.port)),
                serving=False,
                team=TeamPlaces.of(settings, secrets, os.environ),
            )
        if unread is not None and not any(f["area"] == "database" and f["verdict"] == "broken" for f in found):
            words = f"The team's accounts cannot be read here: {unread}."
            found.append(doctor_findings.finding("account", "team", "broken", words))
        return found
    finally:
        if team is not None:
            await team.close()
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
