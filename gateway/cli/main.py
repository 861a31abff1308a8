"""Headless entry point: ``python -m gateway [serve|providers|models|status|decide|keys|usage|report|audit|admin]``.

Every subcommand accepts ``--home DIR`` (or ``SWITCHBOARD_HOME``) and ``--config FILE``.
Exit codes: 0 success, 1 the gateway could not run, 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from gateway.cli.accounts import add_account_commands
from gateway.cli.admin import add_commands, cmd_provider_key
from gateway.cli.doctor import add_doctor_command
from gateway.cli.fixes import explained
from gateway.cli.reports import add_report_commands
from gateway.cli.status import add_status_command
from gateway.cli.tools import add_tool_commands
from gateway.config.settings import LOG_LEVELS, Settings
from gateway.errors import ConfigError, GatewayError
from gateway.paths import StatePaths, resolve_paths
from gateway.redact import mask_key
from gateway.runtime.launch import read_settings
from gateway.store.secrets import described, encrypting_hint, opener_from
from gateway.version import __version__

COMMANDS = (
    "serve",
    "providers",
    "models",
    "status",
    "decide",
    "keys",
    "usage",
    "report",
    "audit",
    "admin",
    "accounts",
    "quota",
    "connect",
    "launch",
    "doctor",
)


def _run(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run a coroutine on uvloop where the OS has it."""
    from gateway.runtime.tuning import new_event_loop

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main())


def _say(text: str) -> None:
    """Print a status line; a closed stdout (a pipe whose reader left) must not fail a shutdown."""
    with contextlib.suppress(OSError):
        print(text, flush=True)


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows: no add_signal_handler
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))


def cmd_serve(args: argparse.Namespace, settings: Settings, paths: StatePaths) -> int:
    from gateway.runtime.launch import gateway_server
    from gateway.runtime.logs import start_logging
    from gateway.runtime.server import ListenError
    from gateway.runtime.tuning import tune_for_serving
    from gateway.store.folder_lock import FolderBusy

    paths.ensure()
    listener = start_logging(args.log_level or settings.server.log_level, paths.log_dir)

    async def serve() -> int:
        stop = asyncio.Event()
        _on_signals(stop)
        try:
            server = gateway_server(settings, paths, os.environ, args.secret_store, reload=args.reload)
        except FolderBusy as exc:
            print(f"switchboard: {explained(exc)}", file=sys.stderr, flush=True)
            return 1
        try:
            await server.start()
        except ListenError as exc:
            print(f"switchboard: {explained(exc)}", file=sys.stderr, flush=True)
            await server.stop()
            return 1
        tune_for_serving()
        names = ", ".join(p.id for p in server.gateway.providers) or "none yet (see README)"
        _say(
            f"Switchboard gateway {__version__} listening on {server.url}\n"
            f"  OpenAI base URL: {server.url}/v1\n"
            f"  providers: {names}\n"
            f"  state: {paths.config_dir}" + _access_line(server)
        )
        await stop.wait()
        if drain := settings.server.drain:
            _say(f"Draining: not ready for new requests; still serving for {drain:g} s")
        await server.drain(drain)
        _say(f"Stopping: finishing requests in flight (at most {settings.server.shutdown_grace:g} s)")
        await server.stop()
        totals = server.gateway.totals
        _say(
            f"Served {totals.requests} answer{'' if totals.requests == 1 else 's'}; tokens counted: "
            f"{totals.prompt_tokens} prompt ({totals.cached_tokens} cached), {totals.completion_tokens} completion"
            + (f"; {totals.estimated} counted here" if totals.estimated else "")
            + (f"; {totals.unreported} without usage" if totals.unreported else "")
        )
        return 0

    try:
        return _run(serve)
    finally:
        listener.stop()


def _access_line(server: Any) -> str:
    state = server.state
    if state is None:
        return ""
    keys = "every caller needs a client key" if server.settings.server.require_keys else "loopback callers need no key"
    secrets = described(state.secrets.kind, state.secrets.where) + encrypting_hint(state.secrets.kind)
    return f"\n  access: {keys}; {state.keys.live} client key(s)\n  secrets: in {secrets}"


def cmd_providers(args: argparse.Namespace, settings: Settings, paths: StatePaths) -> int:
    if not settings.providers:
        print("No providers configured. Set e.g. OPENAI_API_KEY, or see README.md.")
        return 0
    for p in settings.providers:
        keys = ", ".join(mask_key(k) for k in p.keys) or ("not needed" if p.local else "none")
        models = f"{len(p.models)} fixed" if p.models else "listed by the provider"
        note = " (used when reachable)" if p.probe else ""
        print(f"{p.id:<14} {p.base_url}{note}\n{'':<14} keys: {keys}; models: {models}; from {p.source}")
    return 0


def cmd_models(args: argparse.Namespace, settings: Settings, paths: StatePaths) -> int:
    from gateway.clock import SystemClock
    from gateway.ids import RequestIds
    from gateway.runtime.logs import start_logging
    from gateway.runtime.upstream import upstream_transport
    from gateway.runtime.wiring import build_gateway

    listener = start_logging(args.log_level or settings.server.log_level, None)

    async def list_models() -> int:
        transport = upstream_transport(settings)
        try:
            gateway = build_gateway(settings, transport, SystemClock(), RequestIds())
            ok = await gateway.sync.refresh()
            for entry in await gateway.models():
                print(entry.id)
        finally:
            await transport.aclose()
        return 0 if ok else 1

    try:
        return _run(list_models)
    finally:
        listener.stop()


def cmd_decide(args: argparse.Namespace, settings: Settings, paths: StatePaths) -> int:
    import json

    from gateway.cli.status_text import render_receipt
    from gateway.clock import SystemClock
    from gateway.formats import openai_chat
    from gateway.formats.anthropic import claude_code
    from gateway.formats.interfaces import ClientCall
    from gateway.ids import RequestIds
    from gateway.runtime.logs import start_logging
    from gateway.runtime.upstream import upstream_transport
    from gateway.runtime.wiring import build_gateway

    content: str | list[dict[str, object]] = args.prompt
    if args.image:
        pixel = (
            "data:image/png;base64,"
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
        )
        content = [{"type": "text", "text": args.prompt}, {"type": "image_url", "image_url": {"url": pixel}}]
    body: dict[str, object] = {"model": args.model, "messages": [{"role": "user", "content": content}]}
    if args.tools:
        body["tools"] = [{"type": "function", "function": {"name": "run", "parameters": {"type": "object"}}}]
    try:
        call: ClientCall = openai_chat.parse_request(body)
        if args.claude_code:  # as Claude Code would send it, so that a slot's rule may fire
            call = claude_code.sent(args.model, args.prompt, args.claude_code)
    except ValueError as exc:
        print(f"switchboard: {explained(exc)}", file=sys.stderr)
        return 2
    listener = start_logging(args.log_level or settings.server.log_level, None)

    async def decide() -> int:
        transport = upstream_transport(settings)
        try:
            gateway = build_gateway(settings, transport, SystemClock(), RequestIds())
            await gateway.sync.refresh()
            try:
                found = await gateway.decide(call)
            except GatewayError as exc:
                print(f"switchboard: {exc.message}", file=sys.stderr)
                return 1
        finally:
            await transport.aclose()
        print(json.dumps(found, indent=2) if args.json else render_receipt(found))
        return 0 if found["chosen"] else 1

    try:
        return _run(decide)
    finally:
        listener.stop()


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="keep all state in this folder (or set SWITCHBOARD_HOME)")
    common.add_argument("--config", type=Path, help="config file (default: config.toml in the state folder)")
    common.add_argument("--log-level", choices=LOG_LEVELS, help="default: [server].log_level, else info")

    parser = argparse.ArgumentParser(
        prog="switchboard-gateway", description="Switchboard's LLM gateway, without the tray app."
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this install works (a gateway on a free port, no state touched); exit 0 if so",
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", parents=[common], help="run the gateway (the default)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 11488; 0 picks a free one)")
    serve.add_argument(
        "--require-keys",
        action="store_true",
        help="loopback callers need a client key too (SWITCHBOARD_REQUIRE_KEYS=1)",
    )
    serve.set_defaults(func=cmd_serve)
    providers = sub.add_parser("providers", parents=[common], help="list providers; store or remove a provider's key")
    providers.add_argument("action", nargs="?", default="list", choices=["list", "set-key", "remove-key"])
    providers.add_argument("provider", nargs="?", help="the provider's id (for set-key and remove-key)")
    providers.set_defaults(func=cmd_providers)
    sub.add_parser("models", parents=[common], help="ask every provider for its models").set_defaults(func=cmd_models)
    add_status_command(sub, common)
    decide = sub.add_parser("decide", parents=[common], help="show where a prompt would be routed, sending nothing")
    decide.add_argument("prompt", help="the user's message")
    decide.add_argument("--model", default="auto", help="the model name asked for (default: auto)")
    decide.add_argument("--tools", action="store_true", help="as if the request carried tools")
    decide.add_argument("--image", action="store_true", help="as if the request carried an image")
    decide.add_argument("--json", action="store_true", help="print the receipt as JSON")
    decide.add_argument(
        "--claude-code",
        choices=("main", "subagent", "other"),
        help="as Claude Code would send it: a main turn, a sub-agent's, or one of its small requests",
    )
    decide.set_defaults(func=cmd_decide)
    add_commands(sub, common)
    add_report_commands(sub, common)
    add_account_commands(sub, common)
    add_tool_commands(sub, common)
    add_doctor_command(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list == ["--self-test"]:
        from gateway.runtime import self_test

        return self_test.run()
    if not args_list or (args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "serve")
    args = _parser().parse_args(args_list)
    env = os.environ
    try:
        paths = resolve_paths(args.home, env)  # fails when the folder the app moved the state to is gone
        args.open_secrets = opener_from(env)  # before anything starts a child process: it takes the passphrase out
    except ConfigError as exc:
        print(f"switchboard: {explained(exc)}", file=sys.stderr)
        return 2
    if getattr(args, "needs_settings", True) is False:
        code: int = args.func(args, paths)
        return code
    if getattr(args, "action", "list") != "list":
        return cmd_provider_key(args, paths)
    port = getattr(args, "port", None)
    if port is not None and not 0 <= port <= 65535:
        print(f"switchboard: --port must be from 0 to 65535, not {port}", file=sys.stderr)
        return 2
    try:
        args.secret_store = args.open_secrets(paths.data_dir)  # opened once: the keychain probe is not free
        args.reload = lambda: read_settings(  # again at each reconfigure of a gateway it serves
            paths,
            env,
            args.secret_store,
            config=args.config,
            host=getattr(args, "host", None),
            port=port,
            require_keys=getattr(args, "require_keys", False),
        )
        settings = args.reload()
    except ConfigError as exc:
        print(f"switchboard: {explained(exc)}", file=sys.stderr)
        return 2
    result: int = args.func(args, settings, paths)
    return result


if __name__ == "__main__":
    sys.exit(main())
