"""Model rules written back as a list (gateway.admin.rules.reordered): the edits keep the rules
both lists open with, comments and all, and put the rest in the new order, which a start reads
back as written (globs are tried in it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from gateway.admin.rules import reordered
from gateway.config.editing import edit_config

BEFORE = (
    '[server]\nport = 1\n\n[aliases]\n# mine\ncoding = ["a/b"]\n"claude-*" = ["a/c"]\n\n[providers.a]\nkind = "x"\n'
)


def _written(path: Path, after: list[tuple[str, list[str]]]) -> str:
    before = list(tomllib.loads(path.read_text(encoding="utf-8"))["aliases"].items())
    edit_config(path, reordered(before, after), lambda _: None)
    return path.read_text(encoding="utf-8")


def test_a_rule_added_or_changed_keeps_the_others_where_they_were(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BEFORE, encoding="utf-8")
    text = _written(path, [("coding", ["a/b", "a/d"]), ("claude-*", ["a/c"]), ("*-haiku-*", ["a/e"])])
    assert "# mine\ncoding" in text and text.index("[aliases]") < text.index("[providers.a]")
    assert list(tomllib.loads(text)["aliases"].items()) == [
        ("coding", ["a/b", "a/d"]), ("claude-*", ["a/c"]), ("*-haiku-*", ["a/e"])
    ]  # fmt: skip


def test_a_move_puts_the_rules_in_the_new_order(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BEFORE, encoding="utf-8")
    text = _written(path, [("claude-*", ["a/c"]), ("coding", ["a/b"])])
    assert list(tomllib.loads(text)["aliases"]) == ["claude-*", "coding"]
    assert tomllib.loads(text)["providers"] == {"a": {"kind": "x"}}
    assert reordered([("x", ["a/b"])], [("x", ["a/b"])]) == []  # nothing to write: the file says so


def test_a_rule_removed_keeps_the_comments_of_those_after_it(tmp_path: Path) -> None:
    """Removing a rule moves none of the others: each stays where it was, its comment with it."""
    path = tmp_path / "config.toml"
    path.write_text(
        '[aliases]\n# first\na = ["p/a"]\n# second\nb = ["p/b"]\n# the glob\n"c-*" = ["p/c"]\n', encoding="utf-8"
    )
    assert reordered([("a", ["p/a"]), ("b", ["p/b"]), ("c-*", ["p/c"])], [("a", ["p/a"]), ("c-*", ["p/c"])]) == [
        ("aliases", "b", None)
    ]
    text = _written(path, [("a", ["p/a"]), ("c-*", ["p/c"]), ("d", ["p/d"])])
    assert "# first\na" in text and '# the glob\n"c-*"' in text and "b =" not in text
    assert list(tomllib.loads(text)["aliases"]) == ["a", "c-*", "d"]
