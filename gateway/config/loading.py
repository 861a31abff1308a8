"""Loading settings: one TOML file plus environment variables, validated into the frozen types of
``settings.py``.

Precedence, field by field: command-line flags, then ``config.toml``, then the environment, then
the catalog's defaults. Secrets never live in the file: a provider names the environment
variables that hold its keys (``api_key_env``), and keys found there stay in memory only.

    [server]
    host = "127.0.0.1"            # loopback only until client keys exist
    port = 11488
    allowed_hosts = []            # extra Host names accepted (besides loopback names), "name:443" for a balancer
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

    [network]                     # how upstreams are reached (README: "Behind a proxy")
    proxy = "http://proxy.corp:3128"  # or "socks5://host:1080", or "direct"; unset: HTTPS_PROXY & co.
    ca_file = "corp-root.pem"     # extra root certificates to trust (relative to this file)

    [store]                       # team mode: gateways sharing one PostgreSQL (unset: SQLite in the state folder)
    url = "postgresql://switchboard@db.internal:5432/switchboard"  # no password here: environment or secret store

    [shared]                      # team mode: limits and sign-in renewals shared through Redis (unset: in-process)
    redis = "redis://redis.internal:6379/0"  # no password here: environment or secret store

    [app]                         # the tray app's own
    theme = "system"              # follow the desktop, or "light" / "dark"
    check_updates = true          # ask the release feed daily (update_feed, update_key: see README)
    team_gateway = "https://switchboard.corp.example"  # the tools use the team's (its client key: secret store)

    [providers.mybox]             # any other OpenAI-compatible server
    kind = "openai-compatible"
    base_url = "http://10.0.0.5:8000/v1"
    local = true
"""

from __future__ import annotations

import base64
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.config.network import network_settings
from gateway.config.providers import TIMEOUT_KEYS, providers_from, timeouts
from gateway.config.settings import (
    LOG_LEVELS,
    THEMES,
    AppSettings,
    CacheSettings,
    HealthPolicy,
    ModelOverride,
    RoutingSettings,
    ServerSettings,
    Settings,
)
from gateway.config.shared import shared_settings
from gateway.config.store import store_settings
from gateway.config.table import Table, first
from gateway.errors import ConfigError
from gateway.providers.settings import ROTATIONS, SubscriptionSettings
from gateway.transport import Timeouts
from gateway.transport.addresses import check_base_url, host_entry
from gateway.transport.proxies import Proxy

_SERVER_KEYS = {
    "host",
    "port",
    "allowed_hosts",
    "cors_origins",
    "max_body_mb",
    "shutdown_grace_seconds",
    "drain_seconds",
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
_ROUTING_KEYS = {
    "cooldown_seconds",
    "exhausted_seconds",
    "breaker_failures",
    "breaker_cooloff_seconds",
    "deadline_seconds",
    "affinity_minutes",
    "enforce_model",
}
_CACHE_KEYS = {"enabled", "ttl_seconds", "max_entries", "max_mb", "sampled"}
_MODEL_KEYS = {"context", "output", "rating", "cost", "capabilities", "reasons"}
_CAPABILITIES = {"completion", "tools", "vision", "thinking", "embedding"}
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_GLOB = re.compile(r"^(?=.*[*?\[])[A-Za-z0-9._:/*?!\[\]-]{1,128}$")  # a model rule matching names: "claude-*"
_MODEL_NAME = re.compile(r"^[^\s]{1,256}$")
RESERVED_NAMES = frozenset({"auto", "auto:fast", "auto:local"})


def load_settings(
    config_file: Path,
    env: Mapping[str, str],
    *,
    explicit: bool = False,
    host: str | None = None,
    port: int | None = None,
    require_keys: bool = False,
    stored_keys: Mapping[str, tuple[str, ...]] | None = None,
    proxy_password: Callable[[Proxy], Proxy] | None = None,
) -> Settings:
    """Read ``config_file`` (optional unless ``explicit``) and the environment into Settings.
    ``require_keys``: from the command line; ``SWITCHBOARD_REQUIRE_KEYS=1`` and the config's
    ``[server].require_keys`` switch it on too. ``stored_keys``: provider keys kept in the secret
    store, by provider id (after the environment's in each pool); ``proxy_password``: a proxy
    given its password from the store."""
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

    sections = (
        "server",
        "upstream",
        "routing",
        "aliases",
        "models",
        "cache",
        "providers",
        "subscriptions",
        "accounts",
        "app",
        "network",
        "shared",
        "store",
    )
    top = Table(data, str(config_file.name), set(sections))
    for section in sections:
        if section in top.data and not isinstance(top.data[section], dict):
            raise ConfigError(f"[{section}] must be a table")
    from_env = env.get("SWITCHBOARD_REQUIRE_KEYS", "").strip().lower() in ("1", "true", "yes", "on")
    server = _server(data.get("server", {}), host, port, require_keys or from_env)
    base = timeouts(Table(data.get("upstream", {}), "[upstream]", TIMEOUT_KEYS), Timeouts())

    providers = providers_from(data.get("providers", {}), env, base, stored_keys or {})
    routing = _routing(data.get("routing", {}), data.get("aliases", {}), data.get("models", {}), data.get("cache", {}))
    subscriptions = _subscriptions(data.get("subscriptions", {}), env)
    return Settings(
        server=server,
        providers=providers,
        routing=routing,
        config_file=read_from,
        subscriptions=subscriptions,
        app=_app(data.get("app", {})),
        network=network_settings(data, config_file.parent, env, proxy_password),
        shared=shared_settings(data.get("shared", {})),
        store=store_settings(data.get("store", {})),
    )


def _host_names(entries: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(entry.lower() for entry in entries)
    for name in names:
        if host_entry(name) is None:
            raise ConfigError(
                f"[server].allowed_hosts: {name!r} is not a host name (a name or address, optionally with :port,"
                " such as switchboard.example.com:443)"
            )
    return names


def _server(data: Mapping[str, Any], host: str | None, port: int | None, require_keys: bool) -> ServerSettings:
    t = Table(data, "[server]", _SERVER_KEYS)
    max_mb = t.number("max_body_mb", 0.001, 512)
    defaults = ServerSettings()
    return ServerSettings(
        host=host or t.text("host") or defaults.host,
        port=first(port, t.whole("port", 0, 65535), defaults.port),
        allowed_hosts=_host_names(t.texts("allowed_hosts") or ()),
        cors_origins=t.texts("cors_origins") or (),
        max_body_bytes=int(first(max_mb, defaults.max_body_bytes / 1048576) * 1048576),
        shutdown_grace=first(t.number("shutdown_grace_seconds", 0, 3600), defaults.shutdown_grace),
        drain=first(t.number("drain_seconds", 0, 600), defaults.drain),
        header_timeout=first(t.number("header_timeout_seconds", 0.1, 600), defaults.header_timeout),
        body_timeout=first(t.number("body_timeout_seconds", 0.1, 3600), defaults.body_timeout),
        max_connections=first(t.whole("max_connections", 8, 1_000_000), defaults.max_connections),
        max_connections_per_peer=first(
            t.whole("max_connections_per_peer", 1, 1_000_000), defaults.max_connections_per_peer
        ),
        stream_keep_alive=first(t.number("stream_keep_alive_seconds", 0.01, 3600), defaults.stream_keep_alive),
        model_refresh=first(t.number("model_refresh_seconds", 5, 86400), defaults.model_refresh),
        model_list_ttl=first(t.number("model_list_ttl_seconds", 60, 30 * 86400), defaults.model_list_ttl),
        require_keys=require_keys or bool(t.flag("require_keys")),
        metrics_auth=bool(t.flag("metrics_auth")),
        ledger=first(t.flag("ledger"), True),
        log_level=_choice(t, "log_level", LOG_LEVELS) or defaults.log_level,
    )


def _choice(t: Table, key: str, choices: tuple[str, ...]) -> str | None:
    value = t.text(key)
    if value is not None and value not in choices:
        raise ConfigError(f"{t.where}.{key} must be one of {', '.join(choices)}")
    return value


def _app(data: Mapping[str, Any]) -> AppSettings:
    t = Table(data, "[app]", {"theme", "check_updates", "update_feed", "update_key", "team_gateway"})
    team = t.text("team_gateway") or ""
    if team and (urlsplit(team).scheme not in ("http", "https") or not urlsplit(team).hostname):
        raise ConfigError("[app].team_gateway must be an http:// or https:// address")
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
        team_gateway=team,
    )


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return b""


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
        enabled=first(t.flag("enabled"), base.enabled),
        ttl=first(t.number("ttl_seconds", 1, 30 * 86400), base.ttl),
        max_entries=first(t.whole("max_entries", 1, 10_000_000), base.max_entries),
        max_bytes=int(max_mb * 1048576) if max_mb is not None else base.max_bytes,
        sampled=first(t.flag("sampled"), base.sampled),
    )


def _routing(
    data: Mapping[str, Any], aliases: Mapping[str, Any], models: Mapping[str, Any], cache: Mapping[str, Any]
) -> RoutingSettings:
    t = Table(data, "[routing]", _ROUTING_KEYS)
    base = HealthPolicy()
    policy = HealthPolicy(
        cooldown=first(t.number("cooldown_seconds", 0, 86400), base.cooldown),
        exhausted=first(t.number("exhausted_seconds", 0, 30 * 86400), base.exhausted),
        breaker_failures=first(t.whole("breaker_failures", 1, 1000), base.breaker_failures),
        breaker_cooloff=first(t.number("breaker_cooloff_seconds", 0.01, 86400), base.breaker_cooloff),
    )
    chains = []
    table = Table(aliases, "[aliases]", set(aliases))
    for name in aliases:
        if not (_ALIAS.match(name) or _GLOB.match(name)) or name in RESERVED_NAMES:
            raise ConfigError(
                f"[aliases]: {name!r} cannot be an alias name (letters, digits, '.', '_', ':', '-'; not 'auto') "
                "nor a pattern ('*', '?', '[...]' among those and '/')"
            )
        routes = table.texts(name) or ()
        if not routes or any("/" not in r.strip("/") for r in routes):
            raise ConfigError(f'[aliases].{name} must list routes as "provider/model", in the order to try them')
        chains.append((name, routes))
    return RoutingSettings(
        policy=policy,
        models=tuple((name, _model_override(name, table)) for name, table in models.items()),
        deadline=first(t.number("deadline_seconds", 1, 86400), RoutingSettings().deadline),
        affinity=first(t.number("affinity_minutes", 0, 7 * 1440), RoutingSettings().affinity / 60) * 60,
        aliases=tuple(chains),
        cache=_cache(cache),
        enforce_model=_enforced(t.text("enforce_model")),
    )


def _enforced(name: str | None) -> str | None:
    """``[routing] enforce_model``: the alias or model every request is served by, whatever it asks."""
    if name is None or not name.strip():
        return None
    if not _MODEL_NAME.match(name.strip()):
        raise ConfigError("[routing].enforce_model must be one alias or model name, without spaces")
    return name.strip()


_SUBSCRIPTION_URLS = ("codex_base_url", "openai_auth_url", "github_url", "github_api_url", "copilot_api_url")


def _subscriptions(data: Mapping[str, Any], env: Mapping[str, str]) -> SubscriptionSettings:
    """``[subscriptions]``; each address also from ``SWITCHBOARD_<NAME>`` (e.g.
    ``SWITCHBOARD_CODEX_BASE_URL``), which wins."""
    t = Table(data, "[subscriptions]", {*_SUBSCRIPTION_URLS, "in_auto", "rotation", "proxy"})
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
    return SubscriptionSettings(**urls, in_auto=first(t.flag("in_auto"), base.in_auto), rotation=rotation)
