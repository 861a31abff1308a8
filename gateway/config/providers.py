"""Each provider's settings, from its catalog row, its ``[providers.<id>]`` table (if any), the
environment (keys, addresses, model lists) and keys kept in the secret store. A catalog provider
nobody switched on or gave a key to is left out; one the file names but cannot serve is an error."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway.config.table import Table, first, unsafe_header_value
from gateway.errors import ConfigError, Fix
from gateway.providers.catalog import AUTH_STYLES, KINDS, CatalogEntry, check_protocols, load_catalog
from gateway.providers.settings import ROTATIONS, SUBSCRIPTIONS, ProviderSettings
from gateway.transport import Timeouts
from gateway.transport.addresses import check_base_url

_PROVIDER_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
TIMEOUT_KEYS = {"connect_timeout", "read_timeout", "total_timeout"}
_PROVIDER_KEYS = TIMEOUT_KEYS | {
    "enabled",
    "kind",
    "name",
    "base_url",
    "api_key_env",
    "auth",
    "local",
    "stream_usage",
    "reasoning_history",
    "flat_fee",
    "models",
    "models_url",
    "model_prefix",
    "headers",
    "protocols",
    "rotation",
    "max_request_mb",
    "num_ctx",
    "proxy",  # read with [network] (loading.py): how this provider is reached
}


def providers_from(
    tables: Mapping[str, Any],
    env: Mapping[str, str],
    base: Timeouts,
    stored_keys: Mapping[str, tuple[str, ...]],
) -> tuple[ProviderSettings, ...]:
    """Every provider switched on: the catalog's in its order, then the file's own. ``tables``:
    the file's ``[providers]``; ``base``: the ``[upstream]`` timeouts each provider may override."""
    for pid, table in tables.items():
        if not _PROVIDER_ID.match(pid):
            raise ConfigError(f"[providers.{pid}]: ids are lowercase letters, digits, '-' and '_'")
        if not isinstance(table, dict):
            raise ConfigError(f"[providers.{pid}] must be a table")
        if pid in SUBSCRIPTIONS:
            raise ConfigError(
                f"[providers.{pid}]: {pid} is served by signed-in accounts; its addresses go in [subscriptions]"
            )
    catalog = load_catalog()
    entries = [*catalog.values(), *(_custom_entry(pid, t) for pid, t in tables.items() if pid not in catalog)]
    providers: list[ProviderSettings] = []
    for entry in entries:
        built = _provider(entry, tables.get(entry.id), env, base, stored_keys.get(entry.id, ()))
        if built is not None:
            providers.append(built)
    return tuple(providers)


def timeouts(t: Table, base: Timeouts) -> Timeouts:
    return Timeouts(
        connect=first(t.number("connect_timeout", 0.01, 600), base.connect),
        read=first(t.number("read_timeout", 0.01, 86400), base.read),
        total=first(t.number("total_timeout", 0.01, 86400), base.total),
    )


def _provider(
    entry: CatalogEntry,
    table: Mapping[str, Any] | None,
    env: Mapping[str, str],
    base: Timeouts,
    stored: tuple[str, ...] = (),
) -> ProviderSettings | None:
    """One provider from its catalog row (empty for a custom one), its table and the environment;
    None when it is not switched on."""
    t = Table(table or {}, f"[providers.{entry.id}]", _PROVIDER_KEYS)
    headers = t.headers("headers")  # checked even when switched off: credentials never belong in the file
    if t.flag("enabled") is False:
        return None
    kind = t.text("kind") or entry.kind
    if kind not in KINDS:
        raise ConfigError(f"{t.where}.kind must be one of {', '.join(KINDS)}")
    prefix = entry.env_prefix
    local = first(t.flag("local"), entry.local)
    protocols = t.texts("protocols") or (entry.protocols if kind == entry.kind else ())
    if protocols and (problem := check_protocols(kind, protocols)):
        raise ConfigError(f"{t.where}.protocols must be {problem}")
    num_ctx = t.wholes("num_ctx", 1, 100_000_000) or ()
    if num_ctx and kind != "ollama":
        raise ConfigError(f'{t.where}.num_ctx is for Ollama\'s native API (kind "ollama")')
    rotation = t.text("rotation") or "round-robin"
    if rotation not in ROTATIONS:
        raise ConfigError(f"{t.where}.rotation must be one of {', '.join(ROTATIONS)}")
    auth = t.text("auth") or entry.auth
    if auth not in AUTH_STYLES:
        raise ConfigError(f"{t.where}.auth must be one of {', '.join(AUTH_STYLES)}")
    server_root = env.get(entry.url_env, "").strip() if entry.url_env else ""

    url_names = (f"{prefix}_BASE_URL", *entry.base_url_env)
    base_url = t.text("base_url") or next((v for n in url_names if (v := env.get(n, "").strip())), None)
    if base_url is None and server_root:
        base_url = _with_path(server_root, entry.url_path)
    from_env = bool(base_url or server_root)
    probe = False
    if base_url is None:
        if entry.base_url:
            base_url = entry.base_url
        elif entry.default_url:
            base_url, probe = _with_path(entry.default_url, entry.url_path), True
        elif table is None:
            return None  # a local server that was never pointed at
        else:
            hint = f"{t.where}.base_url, or {entry.url_env} in the environment" if entry.url_env else ""
            raise ConfigError(f"{t.where} needs base_url: the address of the server", detail=hint)

    key_names = t.texts("api_key_env") or entry.key_env
    from_env_keys = _keys_from(key_names, env)
    keys = from_env_keys + tuple(k for k in stored if k not in from_env_keys)
    if table is None and not keys and not local:
        return None  # a hosted provider nobody gave a key to
    if not keys and not local and auth != "none":
        where = " or ".join(key_names) if key_names else "a variable named in api_key_env"
        raise ConfigError(
            f"{t.text('name') or entry.name or entry.id} has no key: add its key.",
            fix=Fix("store_key", entry.id),
            detail=f"{t.where}: the key is read from {where} in the environment, or stored for {entry.id}",
        )
    try:
        if kind == "ollama":  # its native API is at the root; OLLAMA_URL often names the /v1 below it
            base_url = base_url.rstrip("/").removesuffix("/v1")
        url = check_base_url(base_url, plain_http_ok=local)
        models_url = t.text("models_url") or entry.models_url or ""
        if models_url:
            models_url = check_base_url(models_url, plain_http_ok=local)
    except ValueError as exc:
        raise ConfigError(f"{t.where}: base URL {exc}") from None
    if table is not None:
        source = "config"
    elif from_env_keys or from_env:
        source = "environment"
    else:
        source = "secret store" if stored else "default"
    return ProviderSettings(
        id=entry.id,
        name=t.text("name") or entry.name,
        base_url=url,
        keys=keys,
        kind=kind,
        protocols=protocols,
        auth=auth,
        local=local,
        probe=probe and source == "default",
        stream_usage=first(t.flag("stream_usage"), entry.stream_usage),
        reasoning_history=first(t.flag("reasoning_history"), entry.reasoning_history),
        flat_fee=first(t.flag("flat_fee"), entry.flat_fee),
        models=t.texts("models") or _split_list(env.get(f"{prefix}_MODELS", "")) or entry.models,
        models_url=models_url,
        model_prefix=t.text("model_prefix") or entry.model_prefix,
        headers=headers or entry.headers,
        timeouts=timeouts(t, base),
        rotation=rotation,
        max_request_bytes=int((t.number("max_request_mb", 0.001, 1024) or 0) * 1048576),
        num_ctx=num_ctx,
        source=source,
    )


def _custom_entry(pid: str, table: Mapping[str, Any]) -> CatalogEntry:
    """The empty catalog row of a provider the catalog does not know."""
    if table.get("enabled") is not False and table.get("kind") not in KINDS:
        raise ConfigError(
            f"[providers.{pid}] is not a catalog provider, so it needs kind = " + " or ".join(f'"{k}"' for k in KINDS)
        )
    kind = str(table.get("kind"))
    return CatalogEntry(
        id=pid, name=pid, base_url=None, key_env=(), kind=kind, auth="x-api-key" if kind == "anthropic" else "bearer"
    )


def _with_path(root: str, path: str) -> str:
    root = root.strip().rstrip("/")
    if "://" not in root:
        root = f"http://{root}"  # OLLAMA_URL=localhost:11434 is common
    return root if root.endswith(path) else root + path


def _split_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _keys_from(names: tuple[str, ...], env: Mapping[str, str]) -> tuple[str, ...]:
    keys: list[str] = []
    for name in names:
        for key in _split_list(env.get(name, "")):
            if unsafe_header_value(key) or " " in key:
                raise ConfigError(f"{name} holds a key with characters that cannot go in a header")
            if key not in keys:
                keys.append(key)
    return tuple(keys)
