"""The dependency direction of DESIGN.md, checked on the source.

- ``gateway`` never imports Qt, qasync or ``app``: it must run headless.
- ``gateway/core`` and ``gateway/formats`` do no I/O and read no clock or randomness.
- Only ``gateway/api`` and ``gateway/runtime`` serve HTTP with aiohttp (and the sign-in flows
  their browser redirect); upstream HTTP is ``gateway/transport``'s own client.
- Inside ``gateway`` each package imports only packages below it:
  cli → runtime → api → admin → pipeline → (routing, auth) → store → config → providers → formats → core,
  with the leaves (errors, clock, redact, ids, version, paths, transport) usable by all.
- Nothing but the leaves sits at the top of ``gateway/``, and no module is over 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gateway

ROOT = Path(gateway.__file__).parent

LEAVES = {"errors", "clock", "redact", "ids", "version", "paths", "transport"}
RANK = {
    "core": 1,
    "formats": 2,
    "providers": 3,
    "config": 4,
    "store": 5,
    "shared": 5,  # team mode's Redis state, beside the database
    "auth": 6,
    "routing": 6,
    "pipeline": 7,
    "admin": 8,
    "api": 9,
    "runtime": 10,
    "cli": 11,
    "__main__": 12,
    "__init__": 12,
}
# The browser's redirect after a ChatGPT sign-in lands on a small listener of its own.
SERVES_HTTP = ("api", "runtime", "auth.login_flows")
LONGEST = 400  # lines in one module
QT = ("PySide6", "shiboken6", "qasync", "app")
IO_MODULES = (
    "aiohttp",
    "httpx",
    "sqlite3",
    "socket",
    "asyncio",
    "subprocess",
    "os",
    "io",
    "pathlib",
    "urllib.request",
    "http",
    "requests",
    "shutil",
    "tempfile",
    "time",
    "random",
    "secrets",
    "uuid",
)
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
        assert starts(module, SERVES_HTTP), f"{path} imports aiohttp.web"
    if any(starts(n, ("aiohttp",)) for n in names):
        assert starts(module, SERVES_HTTP), f"{path} imports aiohttp"


def _provider_classes() -> set[str]:
    """The classes defined in ``gateway/providers`` that are not protocols (shapes any class may have)."""
    found = set()
    for module, _, tree in ALL:
        if layer(module) == "providers":
            for node in tree.body:
                bases = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in getattr(node, "bases", ())
                }
                if isinstance(node, ast.ClassDef) and "Protocol" not in bases:
                    found.add(node.name)
    return found


PROVIDER_CLASSES = _provider_classes()


def _checked_classes(node: ast.expr) -> list[ast.expr]:
    """The classes an ``isinstance`` asks about: one, a tuple of them, or a union ``A | B``."""
    if isinstance(node, ast.Tuple):
        return [c for e in node.elts for c in _checked_classes(e)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _checked_classes(node.left) + _checked_classes(node.right)
    return [node]


@pytest.mark.parametrize(
    ("module", "path", "tree"),
    [m for m in ALL if layer(m[0]) != "providers"],
    ids=[m[0] for m in ALL if layer(m[0]) != "providers"],
)
def test_only_providers_ask_which_adapter_they_hold(module: str, path: Path, tree: ast.Module) -> None:
    """Adapters declare what they can do (``ProviderCapabilities``); no one else asks their class."""
    from_providers: dict[str, str] = {}  # a name bound here -> the providers class or module it is
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and starts(node.module or "", ("gateway.providers",)):
            from_providers.update({a.asname or a.name: a.name for a in node.names})
    asked = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            for cls in _checked_classes(node.args[1]) if len(node.args) == 2 else []:
                if isinstance(cls, ast.Name) and from_providers.get(cls.id) in PROVIDER_CLASSES:
                    asked.append(cls.id)
                elif (
                    isinstance(cls, ast.Attribute)
                    and isinstance(cls.value, ast.Name)
                    and cls.value.id in from_providers
                    and cls.attr in PROVIDER_CLASSES
                ):
                    asked.append(f"{cls.value.id}.{cls.attr}")
    assert not asked, f"{path} asks isinstance of adapter classes {asked}: read their declared capabilities"


def test_only_leaves_at_the_top() -> None:
    loose = {p.stem for p in ROOT.glob("*.py")} - LEAVES - {"__init__", "__main__"}
    assert not loose, f"modules at the top of gateway/ that are not leaves: {sorted(loose)}"


@pytest.mark.parametrize(("module", "path", "tree"), ALL, ids=[m for m, _, _ in ALL])
def test_no_module_is_too_long(module: str, path: Path, tree: ast.Module) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= LONGEST, f"{path} has {lines} lines (at most {LONGEST})"


def test_public_surface_is_exactly_all() -> None:
    exported = {
        name
        for name in dir(gateway)
        if not name.startswith("_") and not isinstance(getattr(gateway, name), type(gateway))
    }
    assert exported == set(gateway.__all__) - {"__version__"}


APP = Path(gateway.__file__).parent.parent / "app"


@pytest.mark.parametrize("path", sorted(APP.rglob("*.py")), ids=lambda p: str(p.relative_to(APP)))
def test_app_uses_only_the_public_surface(path: Path) -> None:
    """``app`` imports ``gateway`` itself, never a module inside it (DESIGN.md, dependency direction)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = sorted(
        n for n in imported(tree, "app") if n.startswith("gateway.") and n.split(".")[1] not in gateway.__all__
    )
    assert not inner, f"{path} reaches inside the gateway: {inner}"
