"""The CLI's account commands: ``accounts list | import codex | import copilot | login codex |
login copilot | remove ID`` and ``quota``.

They go through the same admin door as the app and the admin routes (gateway.admin.accounts), on
the database and the secret store (the team's database, with ``[store] url``: its accounts, their
tokens sealed there with the team's passphrase file, and its quota windows); a running gateway
picks up an account connected or removed here within seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import webbrowser
from pathlib import Path
from typing import Any

from gateway.admin.accounts import Accounts, stored_quota
from gateway.admin.state import State
from gateway.auth.account_book import AccountBook
from gateway.auth.accounts import RISK_NOTE
from gateway.auth.login_flows import LoginFlows
from gateway.auth.oauth.logins_on_disk import ImportProblem
from gateway.cli.common import ACTOR, accounts_where_kept, fail, open_state, read_stored, when
from gateway.clock import SystemClock
from gateway.config.settings import Settings
from gateway.errors import ConfigError, GatewayError
from gateway.paths import StatePaths
from gateway.routing.quota import QuotaReading, QuotaRecord
from gateway.runtime.launch import read_settings
from gateway.runtime.upstream import upstream_transport
from gateway.store.accounts import AccountPublic
from gateway.store.db import StoreError
from gateway.store.secrets import SecretStore
from gateway.store.team import open_team_store


def cmd_accounts(args: argparse.Namespace, settings: Settings, paths: StatePaths) -> int:
    try:
        state = open_state(paths, args.secret_store)
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    try:
        return asyncio.run(_accounts(args, settings, state))
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    except (GatewayError, ImportProblem) as exc:
        return fail(exc, 2)
    except KeyboardInterrupt:
        return fail("cancelled", 130)
    finally:
        state.close()


async def _accounts(args: argparse.Namespace, settings: Settings, state: State) -> int:
    transport = upstream_transport(settings)
    clock = SystemClock()
    book = AccountBook(state.db, state.secrets, clock, settings.subscriptions, transport)
    flows = LoginFlows(book, clock, env=os.environ, home=Path.home(), open_browser=webbrowser.open)
    accounts = Accounts(flows)  # no gateway here: a running one picks the change up within seconds
    try:
        await asyncio.to_thread(book.load)
        async with accounts_where_kept(book, settings.store.url, state.secrets):
            return await _account_command(args, accounts)
    finally:
        await flows.close()
        await transport.aclose()


async def _account_command(args: argparse.Namespace, accounts: Accounts) -> int:
    command, kind = args.accounts_command, getattr(args, "kind", None)
    if command == "list":
        listing = accounts.listing()
        if args.json:
            print(json.dumps(listing["accounts"], indent=2))
        elif not listing["accounts"]:
            print(
                "No accounts yet: python -m gateway accounts import codex | import copilot | login codex "
                "| login copilot"
            )
        else:
            for a in listing["accounts"]:
                print(f"{a['id']}  {a['label']:<32}  {a['plan'] or '-':<12}  {a['state']:<14}  {a['origin']}")
            print(f"\nrisk: {listing['risk_note']}")
        return 0
    if command == "remove":
        removed = await accounts.remove(args.id, ACTOR)
        if removed is None:
            return fail(f"no account {args.id}")
        print(f"Removed {removed['label']} and its tokens.")
        return 0
    if command == "import" and kind == "codex":
        path = Path(args.path).expanduser() if args.path else None
        row = await accounts.import_codex(ACTOR, path, sync=args.sync)
    elif command == "import":
        row = await accounts.import_copilot(ACTOR, host=args.host)
    else:
        found = await _login(accounts, kind or "")
        if found is None:
            return 1
        row = found
    print(f"Connected {row['label']} ({row['plan'] or 'plan unknown'}). {RISK_NOTE}")
    return 0


async def _login(accounts: Accounts, kind: str) -> AccountPublic | None:
    """A sign-in in the terminal: the address (or the code) shown here, the wait until it ends."""
    flow = await accounts.sign_in(kind, ACTOR)
    details = flow.details
    if kind == "codex":
        print(f"Sign in with ChatGPT in your browser:\n\n  {details.get('authorize_url')}\n", file=sys.stderr)
        if details.get("paste_redirect"):
            pasted = await asyncio.to_thread(
                input, "Ports 1455 and 1457 are busy. Paste the address your browser ends on: "
            )
            accounts.paste_redirect(flow, pasted)
    else:
        print(
            f"Open {details.get('verification_uri')} and enter the code  {flow.user_code}  "
            f"(within {details.get('expires_in', 0) // 60} minutes).",
            file=sys.stderr,
        )
    if flow.task is not None:
        await flow.task
    if flow.status != "done" or flow.account is None:
        print(f"switchboard: {flow.error or 'the sign-in did not finish'}", file=sys.stderr)
        return None
    return flow.account


def cmd_quota(args: argparse.Namespace, paths: StatePaths) -> int:
    """Every account's and key's windows: used %, reset, and when it runs out at the current rate."""
    try:
        secrets = args.open_secrets(paths.data_dir)
        url = read_settings(paths, os.environ, secrets, config=args.config, move_passwords=False).store.url
        if url is None:
            windows = read_stored(paths, lambda read: stored_quota(read, time.time()))
        else:
            windows = asyncio.run(_team_quota(url, secrets))
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    if args.json:
        print(json.dumps(windows, indent=2))
        return 0
    if not windows:
        print("No quota reported yet: windows appear after an account's first request or quota check.")
        return 0
    print(f"{'account or key':<32} {'window':<22} {'used':>6}  {'resets':<18} {'runs out':<18}")
    for w in windows:
        used = "unlimited" if w["unlimited"] else f"{w['used_percent']:.1f}%"
        print(f"{w['label']:<32} {_window_name(w):<22} {used:>6}  {_resets(w):<18} {when(w['exhausted_at']):<18}")
    return 0


async def _team_quota(url: str, secrets: SecretStore) -> list[QuotaReading]:
    """The accounts' windows the team's database keeps (``[store] url``): every gateway's latest."""
    store = await open_team_store(url, os.environ, secrets)
    try:
        kept = await store.accounts.load_quota()
    finally:
        await store.close()
    now = time.time()
    return [QuotaRecord.from_row(row).public(now) for row in kept]


def _resets(w: QuotaReading) -> str:
    """When the window resets; one whose reset time has passed since it was read says it has reset
    (its reading's time is gone, and nothing of the new window is known used)."""
    return "has reset" if w["reset"] else when(w["resets_at"])


def _window_name(w: QuotaReading) -> str:
    seconds = w["window_seconds"]
    if seconds == 18000:
        return f"{w['window']} (5 hours)"
    if seconds == 604800:
        return f"{w['window']} (weekly)"
    return str(w["window"])


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
