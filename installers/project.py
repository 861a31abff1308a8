"""The project's name and version as pyproject.toml gives them (its version is the attribute it
names, ``gateway.version.__version__``, read from source the way setuptools reads it): the one
version source for build.spec and every installer script."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def name_and_version(root: Path = ROOT) -> tuple[str, str]:
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    name: str = project["project"]["name"]
    if "version" in project["project"]:
        return name, str(project["project"]["version"])
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    module, _, variable = attr.rpartition(".")
    source = (root / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        named = isinstance(node, ast.Assign) and any(getattr(t, "id", None) == variable for t in node.targets)
        if named and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return name, node.value.value
    raise ValueError(f"{attr} is not a string constant in {module}")


if __name__ == "__main__":  # the release workflow checks the tag against this
    print(name_and_version()[1])
