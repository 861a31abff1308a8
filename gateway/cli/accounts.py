"""The CLI's account commands: ``accounts list | import codex | import copilot | login codex |
login copilot | remove ID`` and ``quota``.

They work on the database and the secret store directly; a running gateway picks up an account
connected or removed here within seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import webbrowser
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.admin.state import State
from gateway.auth.account_book import AccountBook
from gateway.auth.accounts import RISK_NOTE
from gateway.auth.login_flows import LoginFlows
from gateway.auth.oauth.logins_on_disk import (
    ImportProblem,
    codex_auth_file,
    copilot_config_dir,
    read_codex_login,
    read_editor_login,
    write_back_to,
)
from gateway.clock import SystemClock
from gateway.config.settings import Settings
from gateway.errors import ConfigError, GatewayError
from gateway.paths import StatePaths
from gateway.routing.quota import QuotaRecord
from gateway.store import accounts as rows
from gateway.store.db import FILE_NAME, StoreError, connect
from gateway.transport.http1 import Http1Transport


def _fail(message: str, code: int = 1) -> int:
    print(f"switchboard: {message}", file=sys.stderr)
    return code


def cmd_accounts(args: argparse.Namespace, settings: Settings, paths: StatePaths) -> int:
    paths.ensure()
    try:
        state = State(paths.data_dir, args.secret_store, SystemClock())
        state.open()
    except (StoreError, ConfigError) as exc:
        return _fail(str(exc))
    try:
        return asyncio.run(_accounts(args, settings, state))
    except (GatewayError, ImportProblem) as exc:
        return _fail(getattr(exc, "message", str(exc)), 2)
    except KeyboardInterrupt:
        return _fail("cancelled", 130)
    finally:
        state.close()


async def _accounts(args: argparse.Namespace, settings: Settings, state: State) -> int:
    transport = Http1Transport()
    clock = SystemClock()
    book = AccountBook(state.db, state.secrets, clock, settings.subscriptions, transport)
    try:
        await asyncio.to_thread(book.load)
        command, kind = args.accounts_command, getattr(args, "kind", None)
        if command == "list":
            listing = book.listing()
            if args.json:
                print(json.dumps(listing, indent=2))
            elif not listing:
                print(
                    "No accounts yet: python -m gateway accounts import codex | import copilot | login codex "
                    "| login copilot"
                )
            else:
                for a in listing:
                    print(f"{a['id']}  {a['label']:<32}  {a['plan'] or '-':<12}  {a['state']:<14}  {a['origin']}")
                print(f"\nrisk: {RISK_NOTE}")
            return 0
        if command == "remove":
            row = await book.remove(args.id, "cli")
            if row is None:
                return _fail(f"no account {args.id}")
            print(f"Removed {row.label} and its tokens.")
            return 0
        env, home = os.environ, Path.home()
        if command == "import" and kind == "codex":
            path = Path(args.path).expanduser() if args.path else codex_auth_file(env, home)
            login = read_codex_login(path)
            row = await book.connect_codex(
                login.tokens, "import:codex-cli", "cli", write_back_to(login, args.sync), login.account_id
            )
        elif command == "import":
            found = read_editor_login(
                env, copilot_config_dir(env, home, sys.platform == "win32"), args.host or book.github.host
            )
            row = await book.connect_copilot(found.token, "import:editor", "cli", found.user)
        else:
            row = await _login(book, kind or "", clock, env, home)
            if row is None:
                return 1
        print(f"Connected {row.label} ({row.plan or 'plan unknown'}). {RISK_NOTE}")
        return 0
    finally:
        await transport.aclose()


async def _login(book: AccountBook, kind: str, clock: SystemClock, env: Any, home: Path) -> rows.AccountRow | None:
    flows = LoginFlows(book, clock, env=env, home=home, open_browser=webbrowser.open)
    try:
        if kind == "codex":
            flow = await flows.start_chatgpt("cli")
            print(f"Sign in with ChatGPT in your browser:\n\n  {flow.details['authorize_url']}\n", file=sys.stderr)
            if flow.details["paste_redirect"]:
                pasted = await asyncio.to_thread(
                    input, "Ports 1455 and 1457 are busy. Paste the address your browser ends on: "
                )
                flows.paste_redirect(flow, pasted)
        else:
            flow = await flows.start_copilot("cli")
            print(
                f"Open {flow.details['verification_uri']} and enter the code  {flow.user_code}  "
                f"(within {flow.details['expires_in'] // 60} minutes).",
                file=sys.stderr,
            )
        assert flow.task is not None
        await flow.task
        if flow.status != "done" or flow.account is None:
            print(f"switchboard: {flow.error or 'the sign-in did not finish'}", file=sys.stderr)
            return None
        connected = book.find(flow.account["id"])
        return connected.row if connected is not None else None
    finally:
        await flows.close()


def cmd_quota(args: argparse.Namespace, paths: StatePaths) -> int:
    """Every account's and key's windows: used %, reset, and when it runs out at the current rate."""
    path = paths.data_dir / FILE_NAME
    if not path.exists():
        return _fail("no database yet: start the gateway once, or connect an account")
    try:
        conn = connect(path, readonly=True)
    except StoreError as exc:
        return _fail(str(exc))
    try:
        records = [QuotaRecord.from_row(r) for r in rows.load_quota(conn)]
    finally:
        conn.close()
    now = time.time()
    windows = [r.public(now) for r in records]
    if args.json:
        print(json.dumps(windows, indent=2))
        return 0
    if not windows:
        print("No quota reported yet: windows appear after an account's first request or quota check.")
        return 0
    print(f"{'account or key':<32} {'window':<22} {'used':>6}  {'resets':<18} {'runs out':<18}")
    for w in windows:
        used = "unlimited" if w["unlimited"] else f"{w['used_percent']:.1f}%"
        print(
            f"{w['label']:<32} {_window_name(w):<22} {used:>6}  {_at(w['resets_at']):<18} "
            f"{_at(w['exhausted_at']) if w['exhausted_at'] else '-':<18}"
        )
    return 0


def _window_name(w: dict[str, Any]) -> str:
    seconds = w["window_seconds"]
    if seconds == 18000:
        return f"{w['window']} (5 hours)"
    if seconds == 604800:
        return f"{w['window']} (weekly)"
    return str(w["window"])


def _at(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC") if ts else "-"


def add_account_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    accounts = sub.add_parser("accounts", parents=[common], help="ChatGPT and Copilot subscription accounts")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", required=True)
    listing = accounts_sub.add_parser("list", help="every account: plan, state, how it came")
    listing.add_argument("--json", action="store_true")
    importing = accounts_sub.add_parser("import", help="import the Codex CLI's login or an editor's Copilot login")
    importing.add_argument("kind", choices=["codex", "copilot"])
    importing.add_argument("--path", help="codex: the auth.json to read (default: $CODEX_HOME/auth.json)")
    importing.add_argument("--sync", action="store_true", help="codex: write renewed tokens back to that file")
    importing.add_argument(
        "--host",
        help="copilot: the GitHub host the editor signed in to "
        "(default: the configured GitHub's, github.com unless [subscriptions] github_url says otherwise)",
    )
    login = accounts_sub.add_parser("login", help="sign in with ChatGPT or GitHub Copilot")
    login.add_argument("kind", choices=["codex", "copilot"])
    remove = accounts_sub.add_parser("remove", help="remove an account and its tokens")
    remove.add_argument("id", help="its id or label")
    accounts.set_defaults(func=cmd_accounts)

    quota = sub.add_parser("quota", parents=[common], help="quota windows of every account and key")
    quota.add_argument("--json", action="store_true")
    quota.set_defaults(func=cmd_quota, needs_settings=False)
