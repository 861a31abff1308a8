"""Screenshots of every page of the window, in light and dark, at a laptop's and a small screen's
size, under a real X server (Xvfb) with a tray (trayer), as a person would see them.

    .venv/bin/python scripts/screenshots.py --out docs/screenshots --display 84

Needs Xvfb, trayer, xdotool, xprop and ImageMagick's ``import``. Fake OpenAI-compatible upstreams
serve two providers (OpenAI's and Mistral's models, at their list prices) and a fake ChatGPT a Codex
subscription (imported from a Codex login first); a client key has a budget, and requests of a
working day's size go through the gateway with it and without, to the providers and the
subscription, so the pages have something to show: what was spent, and what the subscription saved.
Files are named ``<size>-<theme>-<n>-<page>.png``; the window's own minimum size is printed per page,
since a window whose minimum outgrows the screen is cut off by it. ``--dialogs`` adds the dialogs,
the tray's menu and notice and the test messages' answers (scripts/screenshot_dialogs.py).

The README's (docs/screenshots/<page>.png, 1366x768 light; <page>-dark.png) are copies made small:

    pngquant --quality 70-90 --strip --force --output docs/screenshots/usage.png 1366x768-light-6-usage.png
    optipng -quiet -o2 docs/screenshots/usage.png
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes import responses_api  # noqa: E402
from fakes.chatgpt import FakeChatGPT  # noqa: E402
from fakes.openai_upstream import FakeOpenAI  # noqa: E402

KEY = "sk-screenshot-upstream-01"
OPENAI_MODELS = ("gpt-5", "gpt-5-mini", "text-embedding-3-small")
MISTRAL_MODELS = ("mistral-large-latest", "mistral-small-latest")
# (model, prompt tokens, completion tokens, cached tokens, with the client key): a day of coding
# agents' requests, their sizes as such requests have (long prompts, much of them cached).
REQUESTS = (
    ("openai/gpt-5", 48_000, 3_200, 36_000, True),
    ("codex/gpt-5", 62_000, 4_100, 40_000, False),
    ("openai/gpt-5-mini", 21_000, 1_800, 12_000, True),
    ("mistral/mistral-large-latest", 18_000, 2_400, 0, False),
    ("codex/gpt-5", 75_000, 5_600, 52_000, False),
    ("openai/gpt-5", 56_000, 2_900, 41_000, True),
    ("mistral/mistral-small-latest", 9_000, 900, 0, False),
    ("codex/gpt-5-codex", 88_000, 6_300, 60_000, False),
    ("openai/gpt-5-mini", 14_000, 1_200, 6_000, False),
    ("openai/gpt-5", 64_000, 4_400, 48_000, False),
)
BUDGET_PER_DAY = "1"
RULES = """
[aliases]
coding = ["openai/gpt-5", "codex/gpt-5-codex", "mistral/mistral-large-latest"]
"claude-haiku-*" = ["openai/gpt-5-mini", "mistral/mistral-small-latest"]
"claude-*" = ["codex/gpt-5", "openai/gpt-5"]
default = ["openai/gpt-5-mini"]
"""  # the client key's, in dollars: its meter on the Quotas page part spent
LOCAL_OFF = "".join(f"[providers.{p}]\nenabled = false\n" for p in ("ollama", "lmstudio", "llamacpp", "vllm"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True, timeout=30).stdout


@contextmanager
def background(*args: str, env: dict[str, str], log: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    out = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True, slots=True)
class Fakes:
    openai: FakeOpenAI  # OpenAI's models
    mistral: FakeOpenAI  # Mistral's
    chatgpt: FakeChatGPT  # a ChatGPT subscription through Codex, with its 5-hour and weekly windows


@contextmanager
def fake_upstreams() -> Iterator[Fakes]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    openai = asyncio.run_coroutine_threadsafe(FakeOpenAI(key=KEY, models=OPENAI_MODELS).start(), loop).result(10)
    mistral = asyncio.run_coroutine_threadsafe(FakeOpenAI(key=KEY, models=MISTRAL_MODELS).start(), loop).result(10)
    chatgpt = asyncio.run_coroutine_threadsafe(FakeChatGPT().start(), loop).result(10)
    chatgpt.primary_used, chatgpt.secondary_used = 62.0, 23.0
    try:
        yield Fakes(openai, mistral, chatgpt)
    finally:
        for fake in (openai, mistral, chatgpt):
            asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def wait_for(check: Any, seconds: float = 30.0) -> Any:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise TimeoutError(f"gave up waiting for {check}")


def send_requests(url: str, fakes: Fakes, client_key: str) -> None:
    """``REQUESTS`` through the gateway, each upstream answering with its tokens (the fakes run in this
    process: their usage is set before each request)."""
    for i, (model, prompt, completion, cached, keyed) in enumerate(REQUESTS):
        fakes.openai.usage_whole = fakes.mistral.usage_whole = (prompt, completion, cached, completion // 4)
        responses_api.USAGE.update(
            input_tokens=prompt,
            input_tokens_details={"cached_tokens": cached},
            output_tokens=completion,
            output_tokens_details={"reasoning_tokens": completion // 4},
            total_tokens=prompt + completion,
        )
        body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi " * (i + 1)}]}).encode()
        headers = {"Content-Type": "application/json"}
        if keyed:
            headers["Authorization"] = f"Bearer {client_key}"
        request = urllib.request.Request(f"{url}/v1/chat/completions", body, headers)
        with urllib.request.urlopen(request, timeout=10):
            pass


def window_ids(env: dict[str, str]) -> set[str]:
    """The app's windows on screen (xdotool finds none: exit status 1)."""
    found = subprocess.run(
        ("xdotool", "search", "--onlyvisible", "--class", "switchboard"), env=env, capture_output=True, text=True
    )
    return set(found.stdout.split())


def place(wid: str, env: dict[str, str], size: tuple[int, int] | None = None) -> None:
    """At the top left (there is no window manager to place it), and as big as the screen if told."""
    run("xdotool", "windowmove", wid, "0", "0", env=env)
    if size is not None:
        run("xdotool", "windowsize", wid, str(size[0]), str(size[1]), env=env)
    time.sleep(1.0)


def prepare_home(home: Path, theme: str, fakes: Fakes, env: dict[str, str]) -> tuple[dict[str, str], str]:
    """A state folder in ``theme`` with a Codex subscription imported and a client key with a budget
    (the key is returned), and the environment the app runs with: two providers' keys on their fake
    upstreams, Codex's login and ChatGPT on the fake."""
    (home / "config.toml").write_text(f'{LOCAL_OFF}\n[app]\ntheme = "{theme}"\n{RULES}', encoding="utf-8")
    chatgpt = fakes.chatgpt
    app_env = {**env, "OPENAI_BASE_URL": fakes.openai.url, "OPENAI_API_KEY": KEY, "MISTRAL_BASE_URL": fakes.mistral.url}
    app_env["MISTRAL_API_KEY"] = KEY
    codex_home = home / "codex"
    codex_home.mkdir()
    (codex_home / "auth.json").write_text(json.dumps(chatgpt.auth_file(chatgpt.issue())), encoding="utf-8")
    app_env |= {"CODEX_HOME": str(codex_home), "SWITCHBOARD_CODEX_BASE_URL": chatgpt.url}
    app_env["SWITCHBOARD_OPENAI_AUTH_URL"] = chatgpt.root
    gateway = (sys.executable, "-m", "gateway", "accounts", "--home", str(home), "import", "codex")
    subprocess.run(gateway, env=app_env, check=True, capture_output=True, timeout=60)
    keys = (sys.executable, "-m", "gateway", "keys", "--home", str(home), "create", "--label", "build server")
    budget = ("--limit", "dollars_per_day", BUDGET_PER_DAY)
    made = subprocess.run((*keys, *budget), env=app_env, check=True, capture_output=True, text=True, timeout=60)
    return app_env, made.stdout.strip().splitlines()[-1]


def shoot(size: str, theme: str, out: Path, display: int, fakes: Fakes, scale: str = "") -> None:
    width, height = (int(n) for n in size.split("x"))
    env = {**os.environ, "DISPLAY": f":{display}"}
    env.pop("QT_QPA_PLATFORM", None)
    with tempfile.TemporaryDirectory(prefix="switchboard-shots-") as home:
        app_env, client_key = prepare_home(Path(home), theme, fakes, env)
        if scale:  # a HiDPI screen: ``size`` in device pixels
            app_env["QT_SCALE_FACTOR"] = scale
        port = free_port()
        command = (sys.executable, "-m", "app", "--home", home, "--port", str(port))
        with background("Xvfb", f":{display}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", env=env):
            wait_for(lambda: Path(f"/tmp/.X11-unix/X{display}").exists())
            time.sleep(0.5)
            with (
                background("trayer", "--edge", "top", "--align", "right", "--widthtype", "request", env=env),
                background(*command, env=app_env, log=out / f"app-{size}-{theme}.log"),
            ):
                wait_for(lambda: b"listening on" in (out / f"app-{size}-{theme}.log").read_bytes())
                send_requests(f"http://127.0.0.1:{port}", fakes, client_key)
                first = wait_for(lambda: window_ids(env), 10)  # the welcome window, on a first start
                for welcome in first:
                    if not run("xdotool", "getwindowname", welcome, env=env).startswith("Welcome"):
                        continue  # the tray icon's own window
                    place(welcome, env)
                    run("import", "-window", "root", str(out / f"{size}-{theme}-0-welcome.png"), env=env)
                    print(f"{size}-{theme}-0-welcome.png", flush=True)
                subprocess.run(command, env=app_env, timeout=30, capture_output=True)  # brings the window forward
                wid = wait_for(lambda: next(iter(window_ids(env) - first), ""))
                place(wid, env, (width, height))
                run("xdotool", "windowfocus", "--sync", wid, env=env)
                run("xdotool", "key", "--clearmodifiers", "ctrl+1", env=env)  # the sidebar has the focus
                seen: list[str] = []
                while True:
                    time.sleep(1.5)
                    title = run("xdotool", "getwindowname", wid, env=env).strip()
                    if title in seen:
                        break  # the last page: Down went no further
                    seen.append(title)
                    n, name = len(seen), title.split("—")[0].strip().split()[0].lower()
                    shot = out / f"{size}-{theme}-{n}-{name}.png"
                    run("import", "-window", "root", str(shot), env=env)
                    hints = run("xprop", "-id", wid, "WM_NORMAL_HINTS", env=env)
                    smallest = next(
                        (line.split(":")[-1].strip() for line in hints.splitlines() if "minimum" in line), ""
                    )
                    print(f"{shot.name}: the window's minimum size {smallest}", flush=True)
                    run("xdotool", "key", "--clearmodifiers", "Down", env=env)


def shoot_dialogs(size: str, theme: str, out: Path, display: int, fakes: Fakes) -> None:
    """The dialogs, the tray's menu and notice and the test messages' answers (screenshot_dialogs.py,
    the app in that process), named ``<size>-<theme>-<what>.png``."""
    width, height = size.split("x")
    env = {**os.environ, "DISPLAY": f":{display}"}
    env.pop("QT_QPA_PLATFORM", None)
    with tempfile.TemporaryDirectory(prefix="switchboard-shots-") as home:
        app_env, _ = prepare_home(Path(home), theme, fakes, env)
        with background("Xvfb", f":{display}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", env=env):
            wait_for(lambda: Path(f"/tmp/.X11-unix/X{display}").exists())
            time.sleep(0.5)
            with background("trayer", "--edge", "top", "--align", "right", "--widthtype", "request", env=env):
                time.sleep(0.5)
                script = str(ROOT / "scripts" / "screenshot_dialogs.py")
                args = ("--home", home, "--out", str(out), "--prefix", f"{size}-{theme}", "--size", size)
                subprocess.run((sys.executable, script, *args), env=app_env, check=True, timeout=240)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--display", type=int, default=84)
    parser.add_argument("--sizes", default="1366x768,1024x640")
    parser.add_argument("--themes", default="light,dark")
    parser.add_argument("--scale", default="", help="device pixels per point, e.g. 2 for a HiDPI screen")
    parser.add_argument("--pages", action=argparse.BooleanOptionalAction, default=True, help="the window's pages")
    parser.add_argument("--dialogs", action="store_true", help="the dialogs, the tray's menu and notice too")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with fake_upstreams() as fakes:
        for size in args.sizes.split(","):
            for theme in args.themes.split(","):
                if args.pages:
                    shoot(size, theme, args.out, args.display, fakes, args.scale)
                if args.dialogs:
                    shoot_dialogs(size, theme, args.out, args.display, fakes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
