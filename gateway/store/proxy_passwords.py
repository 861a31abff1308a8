"""Proxy passwords live in the secret store, never in the config file. An address the file gives
with a user name and password (``http://ann:pw@proxy:3128``) has its password moved here at the
next start, the file keeping ``http://ann@proxy:3128``; loading finds the password again by the
proxy's address and user name."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gateway.config.editing import Change, edit_config, read_config
from gateway.errors import ConfigError
from gateway.store.secrets import SecretStore
from gateway.transport.proxies import Proxy, parse_proxy


def file_address(proxy: Proxy) -> str:
    """What the config file keeps of a proxy: its address, with the user name but no password."""
    return f"{proxy.scheme}://{quote(proxy.user, safe='')}@{proxy.where}" if proxy.user else proxy.url


def entry_name(proxy: Proxy) -> str:
    """The secret store's entry for the password of a proxy named with a user name."""
    return f"proxy-password:{file_address(proxy)}"


def with_password(store: SecretStore) -> Callable[[Proxy], Proxy]:
    """For loading: a proxy named with a user name and no password gets the stored one, if any."""

    def completed(proxy: Proxy) -> Proxy:
        if not proxy.user or proxy.password:
            return proxy
        return replace(proxy, password=store.get(entry_name(proxy)) or "")

    return completed


def entry_names(config_file: Path) -> list[str]:
    """The entries the proxies the file names with a user name may have in the store (keychains
    cannot list theirs): what moving the state folder carries along. Blocking."""
    try:
        data = read_config(config_file)
    except ConfigError:
        return []  # an unreadable file names no proxy
    names = []
    for _, value in _proxy_values(data):
        try:
            proxy = parse_proxy(value)
        except ValueError:
            continue
        if isinstance(proxy, Proxy) and proxy.user:
            names.append(entry_name(proxy))
    return names


def move_passwords_out(path: Path, store: SecretStore, check: Callable[[Path], object]) -> int:
    """Store every proxy password the file at ``path`` holds and write the file back without them
    (``check``: how the edited file is proven readable first); how many were moved. Blocking."""
    changes: list[Change] = []
    for table, value in _proxy_values(read_config(path)):
        try:
            proxy = parse_proxy(value)
        except ValueError:
            continue  # loading says what is wrong with it
        if isinstance(proxy, Proxy) and proxy.password:
            store.set(entry_name(proxy), proxy.password)
            changes.append((table, "proxy", file_address(proxy)))
    if changes:
        edit_config(path, changes, check)
    return len(changes)


def _proxy_values(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    tables: list[tuple[str, object]] = [
        ("network", data.get("network")),
        ("subscriptions", data.get("subscriptions")),
    ]
    providers, accounts = data.get("providers"), data.get("accounts")
    if isinstance(providers, dict):
        tables.extend((f"providers.{pid}", table) for pid, table in providers.items())
    if isinstance(accounts, dict):  # an account's label holds dots (an e-mail address): its names apart
        tables.extend((f'accounts."{label}"', table) for label, table in accounts.items())
    for name, table in tables:
        if isinstance(table, dict) and isinstance(value := table.get("proxy"), str):
            yield name, value
