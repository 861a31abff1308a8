"""``status``: the running gateway's status document (``GET /v1/status`` with the local admin
token) as a person reads it. In team mode (``[store] url``) what lives in the team's database is
read from there, not from what this one gateway holds: every client key the team has, and the
ledger's totals over every gateway; the gateway's own counts are said to be its own."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any, TypedDict, cast

from gateway.admin.usage import DAY, Usage
from gateway.auth import admin_token
from gateway.cli.common import fail
from gateway.cli.status_text import render
from gateway.config.settings import Settings
from gateway.errors import ConfigError
from gateway.paths import StatePaths
from gateway.store.db import StoreError
from gateway.store.keys import ClientKey
from gateway.store.ledger import Totals
from gateway.store.secrets import SecretStore
from gateway.store.team import open_team_store


class TeamPart(TypedDict):
    """What the status adds in team mode, read from the team's database itself."""

    database: str  # its address, without credentials
    keys: list[ClientKey]  # every client key the team has
    day: Totals  # the ledger, every gateway's rows: the last 24 hours
    all: Totals  # and since it began
    shared_limits: bool  # whether the keys' counts are the team's (Redis) or this gateway's own


def cmd_status(args: argparse.Namespace, settings: Settings, paths: StatePaths) -> int:
    import urllib.error  # here, not at every start of the gateway
    import urllib.request

    token = admin_token.read(paths.data_dir)
    url = args.url or f"http://127.0.0.1:{settings.server.port}"
    if token is None:
        return fail(f"no gateway has started with the state folder {paths.data_dir}")
    request = urllib.request.Request(f"{url.rstrip('/')}/v1/status", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status: dict[str, Any] = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return fail(f"cannot read the status from {url}: {exc}")
    unread: Exception | None = None
    if (store := settings.store.url) is not None:
        try:
            status["team"] = asyncio.run(team_part(store, args.secret_store, settings.shared.redis is not None))
        except (StoreError, ConfigError) as exc:
            unread = exc
    print(json.dumps(status, indent=2) if args.json else render(status))
    if unread is not None:
        return fail(f"the team's database cannot be read, so the keys and counts above are this gateway's: {unread}")
    return 0


async def team_part(url: str, secrets: SecretStore, shared_limits: bool) -> TeamPart:
    from gateway.store.postgres.checkup import where

    store = await open_team_store(url, os.environ, secrets)
    try:
        usage, now = Usage(store.ledger, time.time), time.time()
        (day,) = cast(list[Totals], (await usage.report("summary", now - DAY, None, "hour"))["rows"])
        (every,) = cast(list[Totals], (await usage.report("summary", 0, None, "hour"))["rows"])
        keys = [record.public() for record in await store.keys.load()]
    finally:
        await store.close()
    return {
        "database": where(url),
        "keys": keys,
        "day": day,
        "all": every,
        "shared_limits": shared_limits,
    }


def add_status_command(sub: Any, common: argparse.ArgumentParser) -> None:
    status = sub.add_parser("status", parents=[common], help="health of every provider and key of the running gateway")
    status.add_argument("--url", help="the gateway's address (default: http://127.0.0.1:<configured port>)")
    status.add_argument("--json", action="store_true", help="print the status document as JSON")
    status.set_defaults(func=cmd_status)
