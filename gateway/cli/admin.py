"""The CLI's state commands that change something: client keys, the admin password and provider
keys. Each goes through the admin door the admin routes and the app use (gateway.admin), on the
state folder opened here, audited as the actor ``cli``. Whether or not a gateway is running: one
serving the folder picks up key changes within seconds, and a new password ends its sessions at
once; what it reads only at a start (provider keys) applies at its next one.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import re
import sys
from typing import Any

from gateway.admin.admin_login import AdminLogin
from gateway.admin.client_keys import ClientKeys
from gateway.admin.provider_keys import ProviderKeys
from gateway.admin.state import State
from gateway.auth.callers import TIERS
from gateway.cli.common import ACTOR, fail, keys_where_kept, open_state, when
from gateway.errors import ConfigError, GatewayError, InvalidRequest, RouteNotFound
from gateway.paths import StatePaths
from gateway.store.db import StoreError
from gateway.store.team import open_team_store

_PROVIDER_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_AMOUNT = re.compile(r"\d*\.\d+|\d+\.")


def cmd_keys(args: argparse.Namespace, paths: StatePaths) -> int:
    try:
        state = open_state(paths, args.open_secrets(paths.data_dir))
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    try:
        from gateway.runtime.launch import read_settings

        url = read_settings(paths, os.environ, state.secrets, config=args.config, move_passwords=False).store.url
        return asyncio.run(_keys_where_kept(args, state, url))
    except (RouteNotFound, StoreError, ConfigError) as exc:
        return fail(exc)
    except GatewayError as exc:
        return fail(exc, 2)
    finally:
        state.close()


async def _keys_where_kept(args: argparse.Namespace, state: State, url: str | None) -> int:
    """The keys of the state folder, or of the team's database when the settings name one (``[store] url``)."""
    async with keys_where_kept(state, url):
        return await _keys(args, ClientKeys(state))


async def _keys(args: argparse.Namespace, keys: ClientKeys) -> int:
    if args.keys_command == "create":
        limits = {name: value for name, value in (args.limit or [])}
        created = await keys.create(args.label, args.tier, limits, ACTOR, args.enforce_model)
        print(created["key"])
        print(
            f"Key {created['id']} ({created['label']}, {created['tier']} tier) created. It is shown only this once: "
            "keep it somewhere safe.",
            file=sys.stderr,
        )
        return 0
    if args.keys_command == "revoke":
        await keys.revoke(args.id, ACTOR)
        print(f"Key {args.id} revoked; a running gateway refuses it within seconds.")
        return 0
    listing = keys.listing()
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    for entry in listing:
        used = when(entry["last_used"]) if entry["last_used"] else "never used"
        revoked = f", revoked {when(entry['revoked_at'])}" if entry["revoked_at"] else ""
        enforced = f", serves every request by {entry['enforce_model']}" if entry.get("enforce_model") else ""
        print(
            f"{entry['id']}  {entry['prefix']}…{entry['last4']}  {entry['tier']:<8}  {entry['label']}  "
            f"(created {when(entry['created_at'])}, {used}{revoked}{enforced}{_budgets(entry['limits'])})"
        )
    if not listing:
        print("No client keys yet: python -m gateway keys create --label NAME")
    return 0


def cmd_admin(args: argparse.Namespace, paths: StatePaths) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("New admin password (12 characters or more): ")
        if getpass.getpass("Again: ") != password:
            return fail("the two passwords differ", 2)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        state = open_state(paths, args.open_secrets(paths.data_dir))
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    try:
        from gateway.runtime.launch import read_settings

        url = read_settings(paths, os.environ, state.secrets, config=args.config, move_passwords=False).store.url
        asyncio.run(_password_where_kept(state, url, password))
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    except GatewayError as exc:
        return fail(exc, 2)
    finally:
        state.close()
    print("Admin password set; every signed-in session has ended.")
    return 0


async def _password_where_kept(state: State, url: str | None, password: str) -> None:
    """The admin password of the state folder, or of the team's database when the settings name
    one (``[store] url``): every gateway of the team signs in with it and ends its sessions at once."""
    if url is None:
        return await AdminLogin(state).set_password(password, ACTOR)
    store = await open_team_store(url, os.environ, state.secrets)
    try:
        state.sessions.share((await store.admin_login.jwt_secret(), store.admin_login))
        await AdminLogin(state).set_password(password, ACTOR)
    finally:
        state.sessions.share(None)
        await store.close()


def cmd_provider_key(args: argparse.Namespace, paths: StatePaths) -> int:
    """``providers set-key ID`` (keys read from the terminal or stdin, one per line) and
    ``providers remove-key ID``: provider keys kept in the secret store through the admin door,
    checked as the next start reads the settings (refused so, and why) and audited by provider id."""
    if not args.provider or not _PROVIDER_ID.fullmatch(args.provider):
        return fail("name the provider: python -m gateway providers set-key ID", 2)
    try:
        state = open_state(paths, args.open_secrets(paths.data_dir))
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    from gateway.runtime.launch import read_settings

    def check() -> object:
        return read_settings(paths, os.environ, state.secrets, config=args.config)

    door = ProviderKeys(state, check, None)  # no gateway to apply to: it reads them at its next start
    try:
        if args.action == "remove-key":
            if not asyncio.run(door.drop(args.provider, ACTOR))["changed"]:
                return fail(f"no key is stored for {args.provider}")
            print(f"Removed the stored key(s) of {args.provider}.")
            return 0
        if sys.stdin.isatty():
            lines = [getpass.getpass(f"API key for {args.provider} (input hidden): ")]
        else:
            lines = sys.stdin.read().splitlines()
        keys = tuple(dict.fromkeys(line.strip() for line in lines if line.strip()))
        stored = asyncio.run(door.store(args.provider, keys, ACTOR))
        print(
            f"Stored {len(keys)} key(s) for {args.provider} in {stored['stored_in']}; "
            "the gateway uses them from its next start."
        )
        return 0
    except InvalidRequest as exc:
        return fail(exc, 2)
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
        help="override one limit, e.g. --limit requests_per_minute 10; a budget in dollars: "
        "--limit dollars_per_day 5 or dollars_per_month 50 (a sliding 30 days)",
    )
    create.add_argument(
        "--enforce-model",
        metavar="MODEL",
        help="serve every chat request made with this key by MODEL (an alias or model), whatever it names",
    )
    listing = keys_sub.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--json", action="store_true")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id")
    keys.set_defaults(func=cmd_keys, needs_settings=False)

    admin = sub.add_parser("admin", parents=[common], help="the admin account")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    admin_sub.add_parser("password", help="set the admin password (read from the terminal or stdin)")
    admin.set_defaults(func=cmd_admin, needs_settings=False)


def _budgets(limits: dict[str, float]) -> str:
    """A key's dollar budgets, as the listing says them: ", budget $5.00 a day, $50.00 a month (30 days)"."""
    per = {"dollars_per_day": "a day", "dollars_per_month": "a month (30 days)"}
    said = [f"${limits[name]:,.2f} {words}" for name, words in per.items() if name in limits]
    return f", budget {', '.join(said)}" if said else ""


def _limit(value: str) -> Any:
    """A limit's name or value: whole numbers, and amounts with cents (dollar budgets, e.g. 2.50)."""
    if value.isdigit():
        return int(value)
    return float(value) if _AMOUNT.fullmatch(value) else value
