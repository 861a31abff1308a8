"""What the Settings page writes: only what changed, and nothing that widens access unasked."""

from __future__ import annotations

from app.viewmodels.settings import DEFAULT_PORT, Network, log_level_of, theme_of


def test_read_from_the_file_as_written() -> None:
    assert Network.of({}) == Network(DEFAULT_PORT, False, False)
    assert Network.of({"server": {"host": "0.0.0.0", "port": 9000, "require_keys": True}}) == Network(9000, True, True)
    assert Network.of({"server": {"host": "localhost", "port": True}}) == Network(DEFAULT_PORT, False, False)
    assert theme_of({"app": {"theme": "dark"}}) == "dark" and theme_of({"app": {"theme": "plaid"}}) == "system"
    assert log_level_of({"server": {"log_level": "debug"}}) == "debug" and log_level_of({}) == "info"


def test_changes_are_only_what_differs() -> None:
    before = Network(DEFAULT_PORT, False, False)
    assert Network(DEFAULT_PORT, False, False).changes(before) == []
    assert Network(9000, True, True).changes(before) == [
        ("server", "port", 9000),
        ("server", "host", "0.0.0.0"),
        ("server", "require_keys", True),
    ]
    # Back to the defaults: the keys go, so the file says only what differs from them.
    assert Network(DEFAULT_PORT, False, False).changes(Network(9000, True, True)) == [
        ("server", "port", None),
        ("server", "host", None),
        ("server", "require_keys", None),
    ]
    # A host typed by hand (one LAN address) stays while LAN mode stays on.
    assert Network(9000, True, False).changes(Network(9001, True, False)) == [("server", "port", 9000)]
