"""No slot takes an optional argument a signal would fill. PySide hands a slot as many of the
signal's arguments as it accepts, so ``clicked.connect(self.export)`` with ``export(self, path=None)``
calls ``export(False)`` (Usage's "Export CSV…" did nothing but raise a TypeError). Read from the
source: every ``….connect(slot)`` in app/ whose slot is a method of the class, a function of the
module or of the enclosing function, a lambda, or one of those listed in a literal the enclosing
function loops over (the pages' rows of buttons)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def optional_positional(function: Function) -> list[str]:
    """The positional parameters (self aside) a signal's arguments would fill although they have defaults."""
    args = function.args
    positional = args.posonlyargs + args.args
    return [a.arg for a in positional[len(positional) - len(args.defaults) :] if a.arg != "self"]


class Slots(ast.NodeVisitor):
    def __init__(self, module: ast.Module) -> None:
        self.module_functions = {
            n.name: n for n in module.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        self.methods: dict[str, Function] = {}
        self.scope: list[Function] = []
        self.found: list[tuple[int, str, list[str]]] = []  # (line, slot, optional parameters)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        outer, self.methods = (
            self.methods,
            {n.name: n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)},
        )
        self.generic_visit(node)
        self.methods = outer

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.scope.append(node)
        self.generic_visit(node)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr == "connect" and node.args:
            for line, name, function in self.resolve(node.args[0]):
                self.found.append((line, name, optional_positional(function)))
        self.generic_visit(node)

    def resolve(self, target: ast.expr) -> Iterator[tuple[int, str, Function]]:
        if isinstance(target, ast.Lambda):
            yield target.lineno, "lambda", target
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            if (method := self.methods.get(target.attr)) is not None:
                yield target.lineno, f"self.{target.attr}", method
        elif isinstance(target, ast.Name):
            local = {
                n.name: n
                for f in self.scope
                for n in ast.walk(f)
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n is not f
            }
            if (function := local.get(target.id) or self.module_functions.get(target.id)) is not None:
                yield target.lineno, target.id, function
            elif self.scope:  # a loop variable: what the enclosing function lists in literals
                for literal in ast.walk(self.scope[-1]):
                    if isinstance(literal, ast.Tuple | ast.List):
                        for element in literal.elts:
                            if isinstance(element, ast.Lambda | ast.Attribute):
                                yield from self.resolve(element)


def connected_slots() -> Iterator[tuple[str, int, str, list[str]]]:
    for path in sorted(APP.rglob("*.py")):
        visitor = Slots(module := ast.parse(path.read_text(encoding="utf-8")))
        visitor.visit(module)
        for line, name, optional in visitor.found:
            yield str(path.relative_to(APP.parent)), line, name, optional


def test_no_connected_slot_has_an_optional_positional_parameter() -> None:
    slots = list(connected_slots())
    # The reading finds the slots it is meant to: the pages' buttons, in rows and alone.
    names = {(path, name) for path, _, name, _ in slots}
    assert {("app/windows/usage.py", "self.export"), ("app/windows/accounts.py", "self.remove")} <= names
    assert len(slots) > 40
    assert [s for s in slots if s[3]] == []


def test_the_reading_would_catch_the_export_slot_as_it_was() -> None:
    source = """
class Page:
    def __init__(self):
        export.clicked.connect(self.export)
        for text, act in (("A", self.act), ("B", lambda x=1: x)):
            button.clicked.connect(act)

    def export(self, path=None): ...
    def act(self, *, how=None): ...
"""
    visitor = Slots(module := ast.parse(source))
    visitor.visit(module)
    assert [(name, optional) for _, name, optional in visitor.found if optional] == [
        ("self.export", ["path"]),
        ("lambda", ["x"]),
    ]
