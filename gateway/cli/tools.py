"""``connect`` and ``launch``: the coding tools on this computer pointed at the gateway, through the
same set-up door the app uses (gateway.admin.tool_setup).

``connect TOOL`` changes the tool's own settings file, after keeping the user's copy in the state
folder; ``--restore`` puts it back, ``--restore-all`` every file changed (the uninstallers run
that), ``--list`` shows what is installed and connected. ``launch claude|codex ARGS…`` runs the
tool once with the gateway in its environment or on its command line, and changes no file.

The gateway's address is the one its settings name (loopback when it listens on every address),
or ``--url``. Where the gateway asks every caller for a client key, one is made for the tool,
labelled after it, unless ``--key`` gives one: in the team's database when the settings name one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any, NamedTuple

from gateway.admin.client_keys import ClientKeys, CreatedKey
from gateway.admin.state import State
from gateway.admin.tool_setup import BY_ID, DEFAULT_MODEL, Places, Target, ToolSetup, ToolSetupError
from gateway.admin.tool_setup.launch import PROGRAMS, command
from gateway.cli.common import ACTOR, fail, keys_where_kept, open_state
from gateway.config.settings import Settings
from gateway.errors import ConfigError
from gateway.paths import StatePaths
from gateway.runtime.launch import read_settings
from gateway.store.db import StoreError

LOCAL = "127.0.0.1"
EVERYWHERE = ("0.0.0.0", "::", "")


class Made(NamedTuple):
    key: str | None  # what the tool presents (none: the gateway asks for no key)
    id: str | None  # the client key's id where one was made for it here


def gateway_url(settings: Settings, chosen: str | None) -> str:
    if chosen:
        return chosen.rstrip("/")
    host = settings.server.host
    host = LOCAL if host in EVERYWHERE else (f"[{host}]" if ":" in host else host)
    return f"http://{host}:{settings.server.port}"


def _places(paths: StatePaths) -> Places:
    return Places.for_user(paths.data_dir)


def _client_key(
    args: argparse.Namespace, settings: Settings, paths: StatePaths, label: str, kept_as: str | None = None
) -> Made:
    """The key the tool presents: ``--key``, else a new one where the gateway needs keys (with its
    id, to revoke it again when the tool's file cannot take it). ``kept_as``: the secret that keeps
    it for the next run (``launch``, where no file holds it) — reused while it is not revoked, so
    launches do not pile up keys."""
    if args.key:
        return Made(str(args.key), None)
    if not settings.server.require_keys:
        return Made(None, None)
    secrets = args.open_secrets(paths.data_dir)
    state = open_state(paths, secrets)
    try:
        kept = secrets.get(kept_as) if kept_as else None
        created = asyncio.run(_made(state, settings.store.url, label, kept))
        if created is None:
            assert kept is not None
            return Made(kept, None)
        if kept_as:
            secrets.set(kept_as, created["key"])
    finally:
        state.close()
    where = "kept for its next launch" if kept_as else "written into its settings"
    print(f"Made a client key for {label} ({created['id']}); it is {where}.", file=sys.stderr)
    return Made(created["key"], created["id"])


async def _made(state: State, url: str | None, label: str, kept: str | None) -> CreatedKey | None:
    """A new key for the tool where the gateway keeps its keys (the team's database, with one);
    None when ``kept`` is still a live one."""
    async with keys_where_kept(state, url):
        if kept and state.keys.find(kept) is not None:
            return None
        return await ClientKeys(state).create(label, "standard", {}, ACTOR)


def _revoke(args: argparse.Namespace, settings: Settings, paths: StatePaths, key_id: str) -> None:
    state = open_state(paths, args.open_secrets(paths.data_dir))
    try:
        asyncio.run(_revoked(state, settings.store.url, key_id))
    finally:
        state.close()


async def _revoked(state: State, url: str | None, key_id: str) -> None:
    async with keys_where_kept(state, url):
        await ClientKeys(state).revoke(key_id, ACTOR)


def _settings(args: argparse.Namespace, paths: StatePaths) -> Settings:
    """The gateway's settings, read only where needed: restoring opens no secret store (the
    uninstallers run it, where no keychain may answer). Raises ``ConfigError``."""
    return read_settings(paths, os.environ, args.open_secrets(paths.data_dir), config=args.config)


def cmd_connect(args: argparse.Namespace, paths: StatePaths) -> int:
    setup = ToolSetup(_places(paths))
    try:
        if args.restore_all:
            restored = setup.restore_all()
            for path in restored:
                print(f"Restored {path}")
            print("Every tool's settings are as they were." if restored else "No tool's settings were changed.")
            return 0
        if args.restore:
            if not args.tool:
                return fail("name the tool to restore, or restore them all with --restore-all", 2)
            state = setup.restore(args.tool, args.url or "")
            print(f"{state['name']}: its settings are as they were ({state['file']}).")
            return 0
        settings = _settings(args, paths)
        url = gateway_url(settings, args.url)
        if args.list or not args.tool:
            return _list(setup, url)
        tool = setup.tool(args.tool)
        made = _client_key(args, settings, paths, tool.name)
        try:
            state = setup.set_up(args.tool, Target(url, made.key, args.model))
        except ToolSetupError:
            if made.id is not None:  # a key no file holds is one nobody can use: gone again
                _revoke(args, settings, paths, made.id)
            raise
    except (ToolSetupError, StoreError, ConfigError) as exc:
        return fail(exc)
    model = f" with the model {args.model}" if state["uses_model"] else ""
    print(f"{state['name']} now uses Switchboard at {url}{model} ({state['file']}).")
    print(f"Undo: switchboard-gateway connect {args.tool} --restore")
    return 0


def _list(setup: ToolSetup, url: str) -> int:
    for state in setup.states(url):
        installed = "installed" if state["installed"] else "not found"
        connected = "connected" if state["connected"] else ("changed" if state["changed"] else "not connected")
        print(f"{state['id']:<12} {state['name']:<22} {installed:<10} {connected}")
    return 0


def cmd_launch(args: argparse.Namespace, paths: StatePaths) -> int:
    path = _places(paths).find(PROGRAMS[args.program])
    if path is None:
        return fail(f"{args.program} is not installed here (it is not on PATH).")
    try:
        settings = _settings(args, paths)
        made = _client_key(args, settings, paths, f"{args.program} (launch)", f"launch-key:{args.program}")
    except (StoreError, ConfigError) as exc:
        return fail(exc)
    argv, env = command(
        args.program, path, Target(gateway_url(settings, args.url), made.key, args.model), args.args, os.environ
    )
    sys.stdout.flush()
    if sys.platform == "win32":  # no exec there: run it and pass its status on
        import subprocess

        return subprocess.call(argv, env=env)
    os.execve(path, argv, env)  # the tool takes this process's place, its terminal and signals included


def add_tool_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"the model the tool asks for (default: {DEFAULT_MODEL})"
    )
    target.add_argument("--url", help="the gateway's address (default: from its settings)")
    target.add_argument("--key", help="the client key the tool presents (default: one is made where keys are needed)")

    connect = sub.add_parser(
        "connect", parents=[common, target], help="point a coding tool's settings at the gateway, or put them back"
    )
    connect.add_argument("tool", nargs="?", choices=list(BY_ID), help="the tool to set up")
    connect.add_argument("--restore", action="store_true", help="put the tool's settings back as they were")
    connect.add_argument("--restore-all", action="store_true", help="put back every tool's settings changed")
    connect.add_argument("--list", action="store_true", help="which tools are installed and connected")
    connect.set_defaults(func=cmd_connect, needs_settings=False)

    launch = sub.add_parser(
        "launch", parents=[common, target], help="run Claude Code or Codex through the gateway, changing no file"
    )
    launch.add_argument("program", choices=list(PROGRAMS), help="the tool to run")
    launch.add_argument("args", nargs=argparse.REMAINDER, help="its own arguments")
    launch.set_defaults(func=cmd_launch, needs_settings=False)
