"""The CLI's reading commands: ``usage``, ``report`` and ``audit verify | export``. They ask the
admin doors the admin routes answer with (gateway.admin.usage, gateway.admin.audit), over the
state folder's database opened read-only, so they create nothing and a serving gateway is
undisturbed; only the text is the CLI's own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from gateway.admin.audit import AuditLog, verify_export
from gateway.admin.state import stored_anchor
from gateway.admin.usage import DAY, Usage
from gateway.cli.common import fail, read_stored, when
from gateway.errors import ConfigError
from gateway.paths import StatePaths, write_private
from gateway.runtime.launch import read_settings
from gateway.store import ledger
from gateway.store.audit import VerdictDoc
from gateway.store.db import StoreError
from gateway.store.ledger import Totals, UsageRow
from gateway.store.seam import AuditReads, LedgerReads
from gateway.store.secrets import SecretStore
from gateway.store.sqlite_store import SqliteAuditReads, SqliteLedgerReads
from gateway.store.team import open_team_store

T = TypeVar("T")


def _since(days: float) -> float:
    return time.time() - days * DAY


@dataclass(frozen=True, slots=True)
class _Reads:
    """The state as the reading commands see it: this folder's database, or a team's."""

    audit: AuditReads
    ledger: LedgerReads


def _usage_rows(args: argparse.Namespace, paths: StatePaths, view: str, since: float, bucket: str) -> list[UsageRow]:
    report, _ = _on_state(args, paths, lambda reads: Usage(reads.ledger, time.time).report(view, since, None, bucket))
    return report["rows"]


def cmd_usage(args: argparse.Namespace, paths: StatePaths) -> int:
    try:
        (totals,) = cast(
            list[Totals], _usage_rows(args, paths, "summary", _since(args.days) if args.days else 0, "hour")
        )
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    if args.json:
        print(json.dumps(totals, indent=2))
        return 0
    span = f"in the last {args.days:g} days" if args.days else "in all"
    print(f"Requests {span}: {totals['requests']:,} ({totals['successful']:,} successful)")
    print(
        f"Tokens: {totals['prompt_tokens']:,} prompt + {totals['completion_tokens']:,} completion = "
        f"{totals['total_tokens']:,} total ({totals['cached_tokens']:,} cached; "
        f"{totals['estimated']:,} answers counted here)"
    )
    print(_money(totals["cost"], totals["list_cost"], totals["unpriced"]))
    return 0


def _money(cost: float, list_cost: float, unpriced: int) -> str:
    """Spend, and what subscriptions and local models saved against list prices."""
    line = f"Spent: ${cost:,.2f}; saved by subscriptions and local models: ${max(list_cost - cost, 0):,.2f}"
    return line + (f" ({unpriced:,} requests without a known price)" if unpriced else "")


def cmd_report(args: argparse.Namespace, paths: StatePaths) -> int:
    try:
        # Each view has its own row shape, read here by name as the admin route's JSON has it.
        rows: list[Any] = _usage_rows(args, paths, args.view, _since(args.days), args.bucket)
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if args.view == "recent":
        for row in rows:
            print(
                f"{when(row['at_s'])}  {row['request_id']}  {row['caller']:<12}  {row['model']:<24}  "
                f"{row['provider'] or '-':<10}  {row['status']}  {row['prompt']}+{row['completion']} tokens  "
                f"{row['latency_ms']:.0f} ms  ${row['cost']:.4f}  {row['tool'] or '-'}"
                f"{'  ' + row['error'] if row['error'] else ''}"
            )
        return 0
    for row in rows:
        name = when(row["start_s"]) if args.view == "timeseries" else (row.get("name") or _unnamed(args.view))
        print(
            f"{name:<28}  {row['requests']:>8,} requests  {row['successful']:>8,} ok  "
            f"{row['prompt_tokens']:>12,} prompt  {row['completion_tokens']:>10,} completion  "
            f"{row['total_tokens']:>12,} total  ${row['cost']:>10,.2f}  (list ${row['list_cost']:,.2f})"
        )
    if not rows:
        print("No requests in that span.")
        return 0
    # Each request is in one row of any view, so the rows' sums are the span's.
    print(_money(sum(r["cost"] for r in rows), sum(r["list_cost"] for r in rows), sum(r["unpriced"] for r in rows)))
    return 0


def _unnamed(view: str) -> str:
    return {"summary": "all", "by-tool": "(no User-Agent)"}.get(view, "-")


def cmd_audit(args: argparse.Namespace, paths: StatePaths) -> int:
    """``verify``: exit 0 only when the chain is intact and ends where it was last sealed (or,
    for an exported copy or a team's shared database, when its chain is intact). ``export``:
    every event with its hashes."""
    team = False
    try:
        if args.audit_command == "export":
            lines, _ = _on_state(args, paths, lambda reads: AuditLog(reads.audit).export())
            if args.out:
                write_private(Path(args.out), lines.decode())  # 0600 like every file the gateway writes (S32)
            else:
                sys.stdout.write(lines.decode())
            return 0
        if args.file:
            verdict = verify_export(sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8"))
            sealed = False
        else:
            (verdict, sealed), team = _on_state(args, paths, _verified)
    except (StoreError, ConfigError, OSError, ValueError) as exc:
        return fail(exc)
    print(_verdict(verdict, args, team))
    if not sealed and not team and not args.file and verdict["checked"]:
        return fail("the audit anchor key is missing from the secret store, so the end of the log cannot be checked")
    return 0 if verdict["ok"] else 1


async def _verified(reads: _Reads) -> tuple[VerdictDoc, bool]:
    log = AuditLog(reads.audit)
    return await log.verify(), log.sealed


def _on_state(
    args: argparse.Namespace, paths: StatePaths, job: Callable[[_Reads], Coroutine[Any, Any, T]]
) -> tuple[T, bool]:
    """``job`` over the stored state, and whether it was a team's: the shared database when the
    settings name one (``[store] url``: any of the team's machines reads the one audit chain and
    ledger), else the state folder's, read-only, its audit log with its seal for a verify."""
    secrets = args.open_secrets(paths.data_dir)
    url = read_settings(paths, os.environ, secrets, config=args.config, move_passwords=False).store.url
    if url is not None:
        return asyncio.run(_on_team(url, secrets, job)), True
    anchor = stored_anchor(paths.data_dir, secrets) if getattr(args, "audit_command", None) == "verify" else None
    return read_stored(paths, lambda read: job(_Reads(SqliteAuditReads(read, anchor), SqliteLedgerReads(read)))), False


async def _on_team(url: str, secrets: SecretStore, job: Callable[[_Reads], Coroutine[Any, Any, T]]) -> T:
    store = await open_team_store(url, os.environ, secrets)
    try:
        return await job(_Reads(store.audit, store.ledger))
    finally:
        await store.close()


def _verdict(verdict: VerdictDoc, args: argparse.Namespace, team: bool = False) -> str:
    if args.json:
        return json.dumps(verdict, indent=2)
    if not verdict["ok"]:
        return f"Audit log BROKEN at event {verdict['first_bad']}: {verdict['reason']}."
    if args.file:
        return (
            f"Exported audit log intact: {verdict['checked']} events, "
            "chained (its end is checked against the seal only on the gateway's own machine)."
        )
    if team:
        return f"Audit log intact: {verdict['checked']} events, one chain for all the team's gateways."
    return f"Audit log intact: {verdict['checked']} events, chained and sealed."


def add_report_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    usage = sub.add_parser("usage", parents=[common], help="requests and tokens from the usage ledger")
    usage.add_argument("--days", type=float, default=0, help="only the last N days (default: all)")
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(func=cmd_usage, needs_settings=False)

    report = sub.add_parser("report", parents=[common], help="usage and spend by model, provider, key, tool or day")
    report.add_argument("--view", default="summary", choices=list(ledger.VIEWS))
    report.add_argument("--days", type=float, default=7, help="the last N days (default: 7)")
    report.add_argument("--bucket", default="day", choices=["hour", "day"], help="timeseries bucket")
    report.add_argument("--json", action="store_true")
    report.set_defaults(func=cmd_report, needs_settings=False)

    audit_cmd = sub.add_parser("audit", parents=[common], help="check or export the audit log")
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="exit 0 only when the chain is intact")
    verify.add_argument("--file", help="check an exported copy (JSON lines; - for stdin) instead of the database")
    verify.add_argument("--json", action="store_true")
    export = audit_sub.add_parser("export", help="every event with its hashes, as JSON lines")
    export.add_argument("--out", help="write to this file (mode 0600) instead of stdout")
    audit_cmd.set_defaults(func=cmd_audit, needs_settings=False)
