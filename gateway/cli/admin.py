"""The CLI's state commands: client keys, usage reports, the audit log and the admin password.

They work on the database directly, whether or not a gateway is running (SQLite's WAL lets both
at once; a running gateway picks up key changes within seconds). Reports open it read-only.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.admin.provider_keys import ProviderKeys
from gateway.admin.state import ANCHOR_KEY, State
from gateway.auth.callers import TIERS
from gateway.clock import SystemClock
from gateway.errors import ConfigError, GatewayError, InvalidRequest
from gateway.paths import StatePaths, write_private
from gateway.store import audit, ledger
from gateway.store.db import FILE_NAME, StoreError, connect
from gateway.store.secrets import SecretStore

_PROVIDER_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _fail(message: str, code: int = 1) -> int:
    print(f"switchboard: {message}", file=sys.stderr)
    return code


def _open_state(paths: StatePaths, open_secrets: Callable[[Path], SecretStore]) -> State:
    paths.ensure()
    state = State(paths.data_dir, open_secrets(paths.data_dir), SystemClock())
    state.open()
    return state


def cmd_keys(args: argparse.Namespace, paths: StatePaths) -> int:
    try:
        state = _open_state(paths, args.open_secrets)
    except (StoreError, ConfigError) as exc:
        return _fail(str(exc))
    try:
        if args.keys_command == "create":
            limits = {name: value for name, value in (args.limit or [])}
            key, record = state.keys.create_now(args.label, args.tier, limits, "cli").result()
            print(key)
            print(
                f"Key {record.id} ({record.label}, {record.tier} tier) created. It is shown only this once: "
                "keep it somewhere safe.",
                file=sys.stderr,
            )
        elif args.keys_command == "revoke":
            if not state.keys.revoke_now(args.id, "cli").result():
                return _fail(f"no live key with id {args.id}")
            print(f"Key {args.id} revoked; a running gateway refuses it within seconds.")
        else:
            listing = state.keys.listing()
            if args.json:
                print(json.dumps(listing, indent=2))
            for entry in [] if args.json else listing:
                used = _when(entry["last_used"]) if entry["last_used"] else "never used"
                revoked = f", revoked {_when(entry['revoked_at'])}" if entry["revoked_at"] else ""
                print(
                    f"{entry['id']}  {entry['prefix']}…{entry['last4']}  {entry['tier']:<8}  {entry['label']}  "
                    f"(created {_when(entry['created_at'])}, {used}{revoked})"
                )
            if not listing and not args.json:
                print("No client keys yet: python -m gateway keys create --label NAME")
    except GatewayError as exc:
        return _fail(exc.message, 2)
    finally:
        state.close()
    return 0


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _read(paths: StatePaths, query: Any) -> Any:
    path = paths.data_dir / FILE_NAME
    if not path.exists():
        raise StoreError(f"no database yet in {paths.data_dir} (the gateway creates it on its first start)")
    conn = connect(path, readonly=True)
    try:
        return query(conn)
    finally:
        conn.close()


def cmd_usage(args: argparse.Namespace, paths: StatePaths) -> int:
    since = time.time() - args.days * 86400 if args.days else 0.0
    try:
        (totals,) = _read(paths, lambda conn: ledger.report(conn, "summary", since, time.time() + 3600))
    except StoreError as exc:
        return _fail(str(exc))
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
    return 0


def cmd_report(args: argparse.Namespace, paths: StatePaths) -> int:
    since = time.time() - args.days * 86400
    try:
        rows = _read(paths, lambda conn: ledger.report(conn, args.view, since, time.time() + 3600, args.bucket))
    except StoreError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if args.view == "recent":
        for row in rows:
            print(
                f"{_when(row['at_s'])}  {row['request_id']}  {row['caller']:<12}  {row['model']:<24}  "
                f"{row['provider'] or '-':<10}  {row['status']}  {row['prompt']}+{row['completion']} tokens  "
                f"{row['latency_ms']:.0f} ms{'  ' + row['error'] if row['error'] else ''}"
            )
        return 0
    for row in rows:
        name = _when(row["start_s"]) if args.view == "timeseries" else (row.get("name") or "all")
        print(
            f"{name:<28}  {row['requests']:>8,} requests  {row['successful']:>8,} ok  "
            f"{row['prompt_tokens']:>12,} prompt  {row['completion_tokens']:>10,} completion  "
            f"{row['total_tokens']:>12,} total"
        )
    if not rows:
        print("No requests in that span.")
    return 0


def _exported_rows(path: str) -> list[audit.Row]:
    """The rows of an export (JSON lines, as ``audit export`` and the admin route write them)."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    return [audit.exported_row(json.loads(line)) for line in text.splitlines() if line.strip()]


def cmd_audit(args: argparse.Namespace, paths: StatePaths) -> int:
    """``verify``: exit 0 only when the chain is intact and ends where it was last sealed (or,
    for an exported copy, when its chain is intact). ``export``: every row with its hashes."""
    anchor = None
    try:
        if args.audit_command == "export":
            lines = "".join(
                json.dumps(row, ensure_ascii=False) + "\n"
                for row in _read(paths, lambda conn: list(audit.export(conn)))
            )
            if args.out:
                write_private(Path(args.out), lines)  # 0600 like every file the gateway writes (S32)
            else:
                sys.stdout.write(lines)
            return 0
        if args.file:
            verdict = audit.verify_rows(_exported_rows(args.file), None)
        else:
            key = args.open_secrets(paths.data_dir).get(ANCHOR_KEY)
            anchor = audit.Anchor(paths.data_dir / audit.ANCHOR_FILE, bytes.fromhex(key)) if key else None
            verdict = _read(paths, lambda conn: audit.verify(conn, anchor))
    except (StoreError, ConfigError, OSError, ValueError) as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(verdict.public(), indent=2))
    elif not verdict.ok:
        print(f"Audit log BROKEN at event {verdict.first_bad}: {verdict.reason}.")
    elif args.file:
        print(
            f"Exported audit log intact: {verdict.checked} events, "
            "chained (its end is checked against the seal only on the gateway's own machine)."
        )
    else:
        print(f"Audit log intact: {verdict.checked} events, chained and sealed.")
    if anchor is None and not args.file and verdict.checked:
        return _fail("the audit anchor key is missing from the secret store, so the end of the log cannot be checked")
    return 0 if verdict.ok else 1


def cmd_admin(args: argparse.Namespace, paths: StatePaths) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("New admin password (12 characters or more): ")
        if getpass.getpass("Again: ") != password:
            return _fail("the two passwords differ", 2)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        state = _open_state(paths, args.open_secrets)
    except (StoreError, ConfigError) as exc:
        return _fail(str(exc))
    try:
        state.admin.set_password(password, "cli").result()
    except GatewayError as exc:
        return _fail(exc.message, 2)
    finally:
        state.close()
    print("Admin password set; every signed-in session has ended.")
    return 0


def cmd_provider_key(args: argparse.Namespace, paths: StatePaths) -> int:
    """``providers set-key ID`` (keys read from the terminal or stdin, one per line) and
    ``providers remove-key ID``: provider keys kept in the secret store through the admin door,
    checked as the next start reads the settings (refused so, and why) and audited by provider id."""
    if not args.provider or not _PROVIDER_ID.fullmatch(args.provider):
        return _fail("name the provider: python -m gateway providers set-key ID", 2)
    try:
        state = _open_state(paths, args.open_secrets)
    except (StoreError, ConfigError) as exc:
        return _fail(str(exc))
    from gateway.runtime.launch import read_settings

    def check() -> object:
        return read_settings(paths, os.environ, state.secrets, config=args.config)

    door = ProviderKeys(state, check, None)  # no gateway to apply to: it reads them at its next start
    try:
        if args.action == "remove-key":
            if not asyncio.run(door.drop(args.provider, "cli"))["changed"]:
                return _fail(f"no key is stored for {args.provider}")
            print(f"Removed the stored key(s) of {args.provider}.")
            return 0
        if sys.stdin.isatty():
            lines = [getpass.getpass(f"API key for {args.provider} (input hidden): ")]
        else:
            lines = sys.stdin.read().splitlines()
        keys = tuple(dict.fromkeys(line.strip() for line in lines if line.strip()))
        stored = asyncio.run(door.store(args.provider, keys, "cli"))
        print(
            f"Stored {len(keys)} key(s) for {args.provider} in {stored['stored_in']}; "
            "the gateway uses them from its next start."
        )
        return 0
    except InvalidRequest as exc:
        return _fail(exc.message, 2)
    finally:
        state.close()


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    keys = sub.add_parser("keys", parents=[common], help="client keys: create, list, revoke")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key (printed once)")
    create.add_argument("--label", required=True, help="who or what the key is for")
    create.add_argument("--tier", default="standard", choices=list(TIERS), help="its limits (default: standard)")
    create.add_argument(
        "--limit",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        type=_limit,
        help="override one limit, e.g. --limit requests_per_minute 10",
    )
    listing = keys_sub.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--json", action="store_true")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id")
    keys.set_defaults(func=cmd_keys, needs_settings=False)

    usage = sub.add_parser("usage", parents=[common], help="requests and tokens from the usage ledger")
    usage.add_argument("--days", type=float, default=0, help="only the last N days (default: all)")
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(func=cmd_usage, needs_settings=False)

    report = sub.add_parser("report", parents=[common], help="usage by model, provider, caller or time")
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

    admin = sub.add_parser("admin", parents=[common], help="the admin account")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    admin_sub.add_parser("password", help="set the admin password (read from the terminal or stdin)")
    admin.set_defaults(func=cmd_admin, needs_settings=False)


def _limit(value: str) -> Any:
    return int(value) if value.isdigit() else value
