"""The dependency direction of DESIGN.md, checked on the source.

- ``gateway`` never imports Qt, qasync or ``app``: it must run headless.
- ``gateway/core`` and ``gateway/formats`` do no I/O and read no clock or randomness.
- Only ``gateway/api`` and ``gateway/server.py`` import aiohttp (the server); upstream HTTP
  is ``gateway/transport``'s own client.
- Inside ``gateway`` each layer imports only layers below it:
  api → service, state → routing, auth, accounting → config, store, limits, metrics → providers,
  tokens → formats → core, with the leaf modules
  (errors, clock, redact, ids, version, addresses, paths, transport, logs, runtime) usable by all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gateway

ROOT = Path(gateway.__file__).parent

LEAVES = {"errors", "clock", "redact", "ids", "version", "addresses", "paths", "transport", "logs", "runtime"}
RANK = {
    "core": 1,
    "formats": 2,
    "providers": 3,
    "tokens": 3,
    "config": 4,
    "config_file": 5,
    "config_table": 3,
    "store": 4,
    "limits": 4,
    "metrics": 4,
    "routing": 5,
    "auth": 5,
    "accounting": 5,
    "state": 6,
    "relocation": 7,
    "service": 6,
    "stream_reply": 5,
    "api": 7,
    "wiring": 7,
    "server": 8,
    "status_text": 8,
    "__main__": 10,
    "admin_cli": 8,
    "launch": 9,
    "self_test": 9,
    "accounts_cli": 8,
    "__init__": 11,
}
QT = ("PySide6", "shiboken6", "qasync", "app")
IO_MODULES = ("aiohttp", "httpx", "sqlite3", "socket", "asyncio", "subprocess", "os", "io", "pathlib", "urllib.request", "http", "requests", "shutil", "tempfile", "time", "random", "secrets", "uuid")
IO_BUILTINS = ("open", "print", "input")


def modules() -> list[tuple[str, Path, ast.Module]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        found.append((".".join(rel.with_suffix("").parts), path, ast.parse(path.read_text(encoding="utf-8"))))
    return found


def imported(tree: ast.Module, module: str) -> set[str]:
    names: set[str] = set()
    package = module.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                base = ["gateway", *package[: len(package) - node.level]]
                names.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def layer(module: str) -> str:
    return module.split(".")[0]


def starts(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


ALL = modules()


def test_every_module_has_a_layer() -> None:
    unknown = {layer(m) for m, _, _ in ALL} - set(RANK) - LEAVES
    assert not unknown, f"modules outside the layer map: {unknown}"


@pytest.mark.parametrize(("module", "path", "tree"), ALL, ids=[m for m, _, _ in ALL])
def test_no_qt_in_gateway(module: str, path: Path, tree: ast.Module) -> None:
    bad = [n for n in imported(tree, module) if starts(n, QT)]
    assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize(("module", "path", "tree"), ALL, ids=[m for m, _, _ in ALL])
def test_layers_only_look_down(module: str, path: Path, tree: ast.Module) -> None:
    own = layer(module)
    for name in imported(tree, module):
        if not name.startswith("gateway.") or name == "gateway":
            continue
        target = name.split(".")[1]
        if target == own or target in LEAVES or target not in RANK:
            continue
        if own in LEAVES:
            pytest.fail(f"{path}: leaf module imports {name}")
        assert RANK[target] < RANK[own], f"{path} ({own}) imports {name} ({target}), which is not below it"


@pytest.mark.parametrize(
    ("module", "path", "tree"),
    [m for m in ALL if layer(m[0]) in ("core", "formats")],
    ids=[m[0] for m in ALL if layer(m[0]) in ("core", "formats")],
)
def test_core_and_formats_do_no_io(module: str, path: Path, tree: ast.Module) -> None:
    bad = [n for n in imported(tree, module) if starts(n, IO_MODULES)]
    assert not bad, f"{path} imports I/O modules {bad}"
    calls = [
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in IO_BUILTINS
    ]
    assert not calls, f"{path} calls {calls}"


@pytest.mark.parametrize(("module", "path", "tree"), ALL, ids=[m for m, _, _ in ALL])
def test_only_the_http_edges_use_aiohttp(module: str, path: Path, tree: ast.Module) -> None:
    names = imported(tree, module)
    if any(starts(n, ("aiohttp.web",)) for n in names):
        assert layer(module) in ("api", "server"), f"{path} imports aiohttp.web"
    if any(starts(n, ("aiohttp",)) for n in names):
        assert layer(module) in ("api", "server"), f"{path} imports aiohttp"


def test_public_surface_is_exactly_all() -> None:
    exported = {name for name in dir(gateway) if not name.startswith("_") and not isinstance(getattr(gateway, name), type(gateway))}
    assert exported == set(gateway.__all__) - {"__version__"}


APP = Path(gateway.__file__).parent.parent / "app"


@pytest.mark.parametrize("path", sorted(APP.rglob("*.py")), ids=lambda p: str(p.relative_to(APP)))
def test_app_uses_only_the_public_surface(path: Path) -> None:
    """``app`` imports ``gateway`` itself, never a module inside it (DESIGN.md, dependency direction)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = sorted(n for n in imported(tree, "app") if n.startswith("gateway.") and n.split(".")[1] not in gateway.__all__)
    assert not inner, f"{path} reaches inside the gateway: {inner}"
