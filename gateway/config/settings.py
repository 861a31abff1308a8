"""Settings: one TOML file plus environment variables, validated at load into frozen dataclasses.

Precedence, field by field: command-line flags, then ``config.toml``, then the environment, then
the catalog's defaults. Secrets never live in the file: a provider names the environment
variables that hold its keys (``api_key_env``), and keys found there stay in memory only.

    [server]
    host = "127.0.0.1"            # loopback only until client keys exist
    port = 11488
    allowed_hosts = []            # extra exact Host names accepted (besides loopback names)
    cors_origins = []             # browser origins allowed to call; none by default
    max_body_mb = 10
    shutdown_grace_seconds = 10
    header_timeout_seconds = 15   # a request's head must arrive whole this soon (also the keep-alive idle)
    body_timeout_seconds = 60     # and its body this soon after (408 otherwise)
    max_connections = 1024        # at once, within the descriptor limit; a quarter kept for loopback
    max_connections_per_peer = 64 # at once from one address beyond loopback
    stream_keep_alive_seconds = 15  # a stream silent this long sends its protocol's keep-alive
    model_refresh_seconds = 600
    model_list_ttl_seconds = 86400  # a provider's last list serves this long while it cannot answer
    log_level = "info"            # debug, info, warning or error (--log-level wins)

    [upstream]                    # defaults for every provider
    connect_timeout = 10
    read_timeout = 300            # time to first byte, and the longest silence mid-stream
    total_timeout = 1800

    [routing]
    cooldown_seconds = 10         # a rate-limited key rests this long for that model, unless told
    exhausted_seconds = 3600      # an account out of quota rests this long, unless told its reset
    breaker_failures = 3          # consecutive endpoint failures that open a provider's breaker
    breaker_cooloff_seconds = 30  # before one probe is let through (doubling while probes fail)
    deadline_seconds = 1800       # a whole request, all attempts included
    affinity_minutes = 60         # a conversation keeps its key this long after its last request

    [cache]                       # exact-match answers, per caller; off unless switched on
    enabled = true
    ttl_seconds = 300
    max_entries = 1000
    max_mb = 64
    sampled = false               # true: also reuse answers of requests with temperature > 0

    [aliases]                     # a name clients may ask for -> the routes to try, in order
    coding = ["anthropic/claude-sonnet-4-5", "openai/gpt-5", "openrouter/qwen/qwen3-coder"]

    [models."groq/llama-3.3-70b-versatile"]   # over the bundled model facts, any of:
    rating = 3                    # 1-5: the hardest request auto-routing gives it
    cost = [0.59, 0.79]           # dollars per million input, output tokens
    context = 131072              # tokens; also: output, capabilities = [...], reasons = false

    [providers.groq]              # a catalog provider: any field below overrides the catalog
    api_key_env = ["GROQ_API_KEY", "GROQ_KEY_2"]
    models = ["llama-3.3-70b-versatile"]
    rotation = "sequential"       # drain the first key before the next (default: round-robin)
    max_request_mb = 4            # larger requests go to other routes

    [providers.ollama]
    num_ctx = {"llama3.2" = 32768}  # the context window always asked for a model (else: sized to each request)

    [app]                         # the tray app's own
    theme = "system"              # follow the desktop, or "light" / "dark"
    check_updates = true          # ask the release feed daily (update_feed, update_key: see README)

    [providers.mybox]             # any other OpenAI-compatible server
    kind = "openai-compatible"
    base_url = "http://10.0.0.5:8000/v1"
    local = true
"""

from __future__ import annotations

import base64
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.config.table import Table, unsafe_header_value
from gateway.errors import ConfigError
from gateway.providers.catalog import (
    AUTH_STYLES,
    KINDS,
    CatalogEntry,
    check_protocols,
    load_catalog,
)
from gateway.providers.settings import (
    ROTATIONS,
    SUBSCRIPTIONS,
    ProviderSettings,
    SubscriptionSettings,
)
from gateway.transport import Timeouts
from gateway.transport.addresses import check_base_url

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11488

_PROVIDER_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 10 * 1024 * 1024
    shutdown_grace: float = 10.0
    header_timeout: float = 15.0  # seconds for a request's head, from connecting or the last answer
    body_timeout: float = 60.0  # seconds for a request's body, from its head
    max_connections: int = 1024
    max_connections_per_peer: int = 64  # from one address beyond loopback
    stream_keep_alive: float = 15.0  # seconds of silence on a stream before its protocol's keep-alive goes out
    model_refresh: float = 600.0
    model_list_ttl: float = 86400.0  # a list not confirmed for this long is no longer used
    require_keys: bool = False  # loopback callers need a client key too (beyond loopback they always do)
    metrics_auth: bool = False  # /metrics needs admin credentials
    ledger: bool = True  # keep a usage row per request (off: counts and limits only, nothing on disk)
    log_level: str = "info"  # unless --log-level says otherwise


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """How long routes rest after failing, and when a provider's breaker opens."""

    cooldown: float = 10.0  # after a 429 that does not say how long
    exhausted: float = 3600.0  # after an exhausted quota that does not say when it resets
    credential: float = 3600.0  # after a refused credential, before it is tried again
    breaker_failures: int = 3
    breaker_cooloff: float = 30.0
    breaker_max_cooloff: float = 600.0


@dataclass(frozen=True, slots=True)
class ModelOverride:
    """What the config says of one model, over the bundled facts (``[models."provider/model"]``)."""

    context: int | None = None
    output: int | None = None
    rating: int | None = None
    cost: tuple[float, float] | None = None
    capabilities: tuple[str, ...] | None = None
    reasons: bool | None = None


@dataclass(frozen=True, slots=True)
class CacheSettings:
    enabled: bool = False
    ttl: float = 300.0
    max_entries: int = 1000
    max_bytes: int = 64 * 1024 * 1024
    sampled: bool = False  # also reuse answers of requests that sample (temperature > 0 or unset)


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    policy: HealthPolicy = HealthPolicy()
    models: tuple[tuple[str, ModelOverride], ...] = ()  # "provider/model" -> override
    deadline: float = 1800.0  # seconds for a whole request, every attempt and the stream included
    affinity: float = 3600.0  # seconds a conversation keeps its key after its last request
    cache: CacheSettings = CacheSettings()
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()  # name -> "provider/model" chain, in order


@dataclass(frozen=True, slots=True)
class AppSettings:
    """What only the tray app reads (``[app]``); kept in the same file so there is one to back up."""

    theme: str = "system"  # "system" (follow the desktop), "light" or "dark"
    check_updates: bool = True  # the app asks the release feed for a newer release, daily
    update_feed: str = ""  # the release feed's address ("": the project's GitHub releases)
    update_key: str = ""  # base64 Ed25519 public key releases are signed with ("": the one built in)


@dataclass(frozen=True, slots=True)
class Settings:
    server: ServerSettings
    providers: tuple[ProviderSettings, ...]
    routing: RoutingSettings = RoutingSettings()
    config_file: Path | None = None  # the file that was read, if any
    subscriptions: SubscriptionSettings = SubscriptionSettings()
    app: AppSettings = AppSettings()


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


# --- sections ------------------------------------------------------------------------------

_SERVER_KEYS = {
    "host",
    "port",
    "allowed_hosts",
    "cors_origins",
    "max_body_mb",
    "shutdown_grace_seconds",
    "header_timeout_seconds",
    "body_timeout_seconds",
    "max_connections",
    "max_connections_per_peer",
    "stream_keep_alive_seconds",
    "model_refresh_seconds",
    "model_list_ttl_seconds",
    "require_keys",
    "metrics_auth",
    "ledger",
    "log_level",
}
LOG_LEVELS = ("debug", "info", "warning", "error")
THEMES = ("system", "light", "dark")
_TIMEOUT_KEYS = {"connect_timeout", "read_timeout", "total_timeout"}
_PROVIDER_KEYS = _TIMEOUT_KEYS | {
    "enabled",
    "kind",
    "name",
    "base_url",
    "api_key_env",
    "auth",
    "local",
    "stream_usage",
    "reasoning_history",
    "models",
    "models_url",
    "model_prefix",
    "headers",
    "protocols",
    "rotation",
    "max_request_mb",
    "num_ctx",
}
_ROUTING_KEYS = {
    "cooldown_seconds",
    "exhausted_seconds",
    "breaker_failures",
    "breaker_cooloff_seconds",
    "deadline_seconds",
    "affinity_minutes",
}
_CACHE_KEYS = {"enabled", "ttl_seconds", "max_entries", "max_mb", "sampled"}
_MODEL_KEYS = {"context", "output", "rating", "cost", "capabilities", "reasons"}
_CAPABILITIES = {"completion", "tools", "vision", "thinking", "embedding"}
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
RESERVED_NAMES = frozenset({"auto"})


def _server(data: Mapping[str, Any], host: str | None, port: int | None, require_keys: bool) -> ServerSettings:
    t = Table(data, "[server]", _SERVER_KEYS)
    max_mb = t.number("max_body_mb", 0.001, 512)
    defaults = ServerSettings()
    return ServerSettings(
        host=host or t.text("host") or defaults.host,
        port=_first(port, t.whole("port", 0, 65535), defaults.port),
        allowed_hosts=tuple(h.lower() for h in t.texts("allowed_hosts") or ()),
        cors_origins=t.texts("cors_origins") or (),
        max_body_bytes=int(_first(max_mb, defaults.max_body_bytes / 1048576) * 1048576),
        shutdown_grace=_first(t.number("shutdown_grace_seconds", 0, 3600), defaults.shutdown_grace),
        header_timeout=_first(t.number("header_timeout_seconds", 0.1, 600), defaults.header_timeout),
        body_timeout=_first(t.number("body_timeout_seconds", 0.1, 3600), defaults.body_timeout),
        max_connections=_first(t.whole("max_connections", 8, 1_000_000), defaults.max_connections),
        max_connections_per_peer=_first(
            t.whole("max_connections_per_peer", 1, 1_000_000), defaults.max_connections_per_peer
        ),
        stream_keep_alive=_first(t.number("stream_keep_alive_seconds", 0.01, 3600), defaults.stream_keep_alive),
        model_refresh=_first(t.number("model_refresh_seconds", 5, 86400), defaults.model_refresh),
        model_list_ttl=_first(t.number("model_list_ttl_seconds", 60, 30 * 86400), defaults.model_list_ttl),
        require_keys=require_keys or bool(t.flag("require_keys")),
        metrics_auth=bool(t.flag("metrics_auth")),
        ledger=_first(t.flag("ledger"), True),
        log_level=_choice(t, "log_level", LOG_LEVELS) or defaults.log_level,
    )


def _choice(t: Table, key: str, choices: tuple[str, ...]) -> str | None:
    value = t.text(key)
    if value is not None and value not in choices:
        raise ConfigError(f"{t.where}.{key} must be one of {', '.join(choices)}")
    return value


def _app(data: Mapping[str, Any]) -> AppSettings:
    t = Table(data, "[app]", {"theme", "check_updates", "update_feed", "update_key"})
    feed = t.text("update_feed") or ""
    if feed:
        parts = urlsplit(feed)
        if parts.scheme != "https" and not (
            parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        ):
            raise ConfigError("[app].update_feed must be an https:// address (http:// only on this computer)")
    key = t.text("update_key") or ""
    if key and len(_base64(key)) != 32:
        raise ConfigError("[app].update_key must be a base64 Ed25519 public key (32 bytes)")
    check = t.flag("check_updates")
    return AppSettings(
        theme=_choice(t, "theme", THEMES) or AppSettings().theme,
        check_updates=AppSettings().check_updates if check is None else check,
        update_feed=feed,
        update_key=key,
    )


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return b""


def _first(*values: Any) -> Any:
    return next(v for v in values if v is not None)


def _timeouts(t: Table, base: Timeouts) -> Timeouts:
    return Timeouts(
        connect=_first(t.number("connect_timeout", 0.01, 600), base.connect),
        read=_first(t.number("read_timeout", 0.01, 86400), base.read),
        total=_first(t.number("total_timeout", 0.01, 86400), base.total),
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
    local = _first(t.flag("local"), entry.local)
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

    base_url = t.text("base_url") or env.get(f"{prefix}_BASE_URL", "").strip() or None
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
            hint = f" (or set {entry.url_env})" if entry.url_env else ""
            raise ConfigError(f"{t.where} needs base_url{hint}")

    key_names = t.texts("api_key_env") or entry.key_env
    from_env_keys = _keys_from(key_names, env)
    keys = from_env_keys + tuple(k for k in stored if k not in from_env_keys)
    if table is None and not keys and not local:
        return None  # a hosted provider nobody gave a key to
    if not keys and not local and auth != "none":
        where = " or ".join(key_names) if key_names else "a variable named in api_key_env"
        raise ConfigError(
            f"{t.where} has no key: set {where} in the environment, or store one with "
            f"'python -m gateway providers set-key {entry.id}'"
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
        stream_usage=_first(t.flag("stream_usage"), entry.stream_usage),
        reasoning_history=_first(t.flag("reasoning_history"), entry.reasoning_history),
        models=t.texts("models") or _split_list(env.get(f"{prefix}_MODELS", "")) or entry.models,
        models_url=models_url,
        model_prefix=t.text("model_prefix") or entry.model_prefix,
        headers=headers or entry.headers,
        timeouts=_timeouts(t, base),
        rotation=rotation,
        max_request_bytes=int((t.number("max_request_mb", 0.001, 1024) or 0) * 1048576),
        num_ctx=num_ctx,
        source=source,
    )


def _model_override(name: str, data: Any) -> ModelOverride:
    where = f'[models."{name}"]'
    if "/" not in name.strip("/") or not isinstance(data, dict):
        raise ConfigError(f'{where}: name models as "provider/model", each a table of facts')
    t = Table(data, where, _MODEL_KEYS)
    cost = data.get("cost")
    if cost is not None and not (
        isinstance(cost, list)
        and len(cost) == 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) and c >= 0 for c in cost)
    ):
        raise ConfigError(f"{where}.cost must be [input, output] dollars per million tokens")
    capabilities = t.texts("capabilities")
    if capabilities is not None and not set(capabilities) <= _CAPABILITIES:
        raise ConfigError(f"{where}.capabilities may hold only {', '.join(sorted(_CAPABILITIES))}")
    return ModelOverride(
        context=t.whole("context", 1, 100_000_000),
        output=t.whole("output", 1, 100_000_000),
        rating=t.whole("rating", 1, 5),
        cost=(float(cost[0]), float(cost[1])) if cost is not None else None,
        capabilities=capabilities,
        reasons=t.flag("reasons"),
    )


def _cache(data: Mapping[str, Any]) -> CacheSettings:
    t = Table(data, "[cache]", _CACHE_KEYS)
    base = CacheSettings()
    max_mb = t.number("max_mb", 0.001, 65536)
    return CacheSettings(
        enabled=_first(t.flag("enabled"), base.enabled),
        ttl=_first(t.number("ttl_seconds", 1, 30 * 86400), base.ttl),
        max_entries=_first(t.whole("max_entries", 1, 10_000_000), base.max_entries),
        max_bytes=int(max_mb * 1048576) if max_mb is not None else base.max_bytes,
        sampled=_first(t.flag("sampled"), base.sampled),
    )


def _routing(
    data: Mapping[str, Any], aliases: Mapping[str, Any], models: Mapping[str, Any], cache: Mapping[str, Any]
) -> RoutingSettings:
    t = Table(data, "[routing]", _ROUTING_KEYS)
    base = HealthPolicy()
    policy = HealthPolicy(
        cooldown=_first(t.number("cooldown_seconds", 0, 86400), base.cooldown),
        exhausted=_first(t.number("exhausted_seconds", 0, 30 * 86400), base.exhausted),
        breaker_failures=_first(t.whole("breaker_failures", 1, 1000), base.breaker_failures),
        breaker_cooloff=_first(t.number("breaker_cooloff_seconds", 0.01, 86400), base.breaker_cooloff),
    )
    chains = []
    table = Table(aliases, "[aliases]", set(aliases))
    for name in aliases:
        if not _ALIAS.match(name) or name in RESERVED_NAMES:
            raise ConfigError(
                f"[aliases]: {name!r} cannot be an alias name (letters, digits, '.', '_', ':', '-'; not 'auto')"
            )
        routes = table.texts(name) or ()
        if not routes or any("/" not in r.strip("/") for r in routes):
            raise ConfigError(f'[aliases].{name} must list routes as "provider/model", in the order to try them')
        chains.append((name, routes))
    return RoutingSettings(
        policy=policy,
        models=tuple((name, _model_override(name, table)) for name, table in models.items()),
        deadline=_first(t.number("deadline_seconds", 1, 86400), RoutingSettings().deadline),
        affinity=_first(t.number("affinity_minutes", 0, 7 * 1440), RoutingSettings().affinity / 60) * 60,
        aliases=tuple(chains),
        cache=_cache(cache),
    )


_SUBSCRIPTION_URLS = ("codex_base_url", "openai_auth_url", "github_url", "github_api_url", "copilot_api_url")


def _subscriptions(data: Mapping[str, Any], env: Mapping[str, str]) -> SubscriptionSettings:
    """``[subscriptions]``; each address also from ``SWITCHBOARD_<NAME>`` (e.g.
    ``SWITCHBOARD_CODEX_BASE_URL``), which wins."""
    t = Table(data, "[subscriptions]", {*_SUBSCRIPTION_URLS, "in_auto", "rotation"})
    base = SubscriptionSettings()
    urls = {}
    for name in _SUBSCRIPTION_URLS:
        raw = env.get(f"SWITCHBOARD_{name.upper()}", "").strip() or t.text(name)
        if raw:
            try:
                urls[name] = check_base_url(raw, plain_http_ok=False)
            except ValueError as exc:
                raise ConfigError(f"[subscriptions].{name}: {exc}") from None
    rotation = t.text("rotation") or base.rotation
    if rotation not in ROTATIONS:
        raise ConfigError(f"[subscriptions].rotation must be one of {', '.join(ROTATIONS)}")
    return SubscriptionSettings(**urls, in_auto=_first(t.flag("in_auto"), base.in_auto), rotation=rotation)


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


# --- entry point ---------------------------------------------------------------------------


def load_settings(
    config_file: Path,
    env: Mapping[str, str],
    *,
    explicit: bool = False,
    host: str | None = None,
    port: int | None = None,
    require_keys: bool = False,
    stored_keys: Mapping[str, tuple[str, ...]] | None = None,
) -> Settings:
    """Read ``config_file`` (optional unless ``explicit``) and the environment into Settings.
    ``require_keys``: from the command line; ``SWITCHBOARD_REQUIRE_KEYS=1`` and the config's
    ``[server].require_keys`` switch it on too. ``stored_keys``: provider keys kept in the secret
    store, by provider id (after the environment's in each pool)."""
    data: dict[str, Any] = {}
    read_from: Path | None = None
    if config_file.is_file():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_file}: {exc}") from None
        read_from = config_file
    elif explicit:
        raise ConfigError(f"config file {config_file} does not exist")

    sections = ("server", "upstream", "routing", "aliases", "models", "cache", "providers", "subscriptions", "app")
    top = Table(data, str(config_file.name), set(sections))
    for section in sections:
        if section in top.data and not isinstance(top.data[section], dict):
            raise ConfigError(f"[{section}] must be a table")
    from_env = env.get("SWITCHBOARD_REQUIRE_KEYS", "").strip().lower() in ("1", "true", "yes", "on")
    server = _server(data.get("server", {}), host, port, require_keys or from_env)
    base = _timeouts(Table(data.get("upstream", {}), "[upstream]", _TIMEOUT_KEYS), Timeouts())

    tables: dict[str, Any] = data.get("providers", {})
    catalog = load_catalog()
    providers: list[ProviderSettings] = []
    for pid, table in tables.items():
        if not _PROVIDER_ID.match(pid):
            raise ConfigError(f"[providers.{pid}]: ids are lowercase letters, digits, '-' and '_'")
        if not isinstance(table, dict):
            raise ConfigError(f"[providers.{pid}] must be a table")
        if pid in SUBSCRIPTIONS:
            raise ConfigError(
                f"[providers.{pid}]: {pid} is served by signed-in accounts ('python -m gateway accounts'); "
                "its addresses go in [subscriptions]"
            )
    entries = [*catalog.values(), *(_custom_entry(pid, t) for pid, t in tables.items() if pid not in catalog)]
    for entry in entries:
        stored = (stored_keys or {}).get(entry.id, ())
        if (built := _provider(entry, tables.get(entry.id), env, base, stored)) is not None:
            providers.append(built)
    routing = _routing(data.get("routing", {}), data.get("aliases", {}), data.get("models", {}), data.get("cache", {}))
    subscriptions = _subscriptions(data.get("subscriptions", {}), env)
    return Settings(
        server=server,
        providers=tuple(providers),
        routing=routing,
        config_file=read_from,
        subscriptions=subscriptions,
        app=_app(data.get("app", {})),
    )
