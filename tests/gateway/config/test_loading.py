from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from gateway.config.loading import load_settings
from gateway.config.settings import Settings
from gateway.errors import ConfigError
from gateway.providers.settings import ProviderSettings

NO_FILE = Path("/nonexistent/switchboard/config.toml")


class Options(TypedDict, total=False):
    """load_settings' keyword arguments."""

    explicit: bool
    host: str | None
    port: int | None
    require_keys: bool
    stored_keys: Mapping[str, tuple[str, ...]] | None


def settings(
    env: dict[str, str] | None = None, text: str | None = None, tmp_path: Path | None = None, **kw: Unpack[Options]
) -> Settings:
    if text is None:
        return load_settings(NO_FILE, env or {}, **kw)
    assert tmp_path is not None
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, env or {}, **kw)


def by_id(s: Settings) -> dict[str, ProviderSettings]:
    return {p.id: p for p in s.providers}


def test_defaults_are_loopback_and_local_servers_on_their_usual_ports() -> None:
    s = settings()
    assert (s.server.host, s.server.port, s.server.log_level) == ("127.0.0.1", 11488, "info")
    assert s.server.max_body_bytes == 10 * 1024 * 1024
    assert s.app.theme == "system"
    found = {p.id: p.base_url for p in s.providers}
    assert found == {
        "ollama": "http://localhost:11434",
        "lmstudio": "http://localhost:1234/v1",
        "llamacpp": "http://127.0.0.1:8080/v1",
        "vllm": "http://localhost:8000/v1",
    }
    assert all(p.probe and p.local and not p.keys for p in s.providers)
    assert by_id(s)["ollama"].kind == "ollama"


def test_log_level_and_theme_are_checked(tmp_path: Path) -> None:
    s = settings(text='[server]\nlog_level = "debug"\n[app]\ntheme = "dark"\n', tmp_path=tmp_path)
    assert (s.server.log_level, s.app.theme) == ("debug", "dark")
    with pytest.raises(ConfigError, match=r"\[app\]\.theme must be one of system, light, dark"):
        settings(text='[app]\ntheme = "blue"\n', tmp_path=tmp_path)
    with pytest.raises(ConfigError, match=r"\[server\]\.log_level must be one of"):
        settings(text='[server]\nlog_level = "loud"\n', tmp_path=tmp_path)


def test_allowed_hosts_are_host_names_with_or_without_a_port(tmp_path: Path) -> None:
    text = '[server]\nallowed_hosts = ["Switchboard.Corp:443", "[fd00::1]", "10.0.0.7:8080", "edge"]\n'
    s = settings(text=text, tmp_path=tmp_path)
    assert s.server.allowed_hosts == ("switchboard.corp:443", "[fd00::1]", "10.0.0.7:8080", "edge")
    for bad in ["*.corp", "https://switchboard.corp", "switchboard.corp:99999", "a b", "corp:"]:
        with pytest.raises(ConfigError, match=r"\[server\]\.allowed_hosts: .* is not a host name"):
            settings(text=f'[server]\nallowed_hosts = ["{bad}"]\n', tmp_path=tmp_path)


def test_env_keys_comma_separated_and_trimmed() -> None:
    p = by_id(settings({"OPENAI_API_KEY": " sk-aaaaaaaaaaaa , sk-bbbbbbbbbbbb,, "}))["openai"]
    assert p.keys == ("sk-aaaaaaaaaaaa", "sk-bbbbbbbbbbbb")
    assert p.base_url == "https://api.openai.com/v1" and p.source == "environment"


def test_env_base_url_and_models() -> None:
    p = by_id(
        settings(
            {
                "GROQ_API_KEY": "gsk_x1234567890",
                "GROQ_BASE_URL": "https://proxy.example/groq/v1/",
                "GROQ_MODELS": "a, b",
            }
        )
    )["groq"]
    assert p.base_url == "https://proxy.example/groq/v1" and p.models == ("a", "b")


def test_a_kimi_coding_plan_key_goes_where_kimi_base_url_says() -> None:
    coding = "https://api.kimi.com/coding/v1"
    env = {"KIMI_API_KEY": "sk-kimi-abcdefghijkl", "KIMI_BASE_URL": coding}
    assert by_id(settings(env))["moonshot"].base_url == coding
    platform = by_id(settings({**env, "MOONSHOT_BASE_URL": "https://api.moonshot.cn/v1"}))["moonshot"]
    assert platform.base_url == "https://api.moonshot.cn/v1"  # the provider's own variable first
    plan = by_id(settings({"KIMI_CODE_API_KEY": "sk-kimi-abcdefghijkl"}))["kimi_code"]
    assert plan.base_url == coding and plan.keys == ("sk-kimi-abcdefghijkl",)


@pytest.mark.parametrize(
    ("var", "pid", "base"),
    [
        ("MINIMAX_API_KEY", "minimax", "https://api.minimax.io/v1"),
        ("XIAOMI_API_KEY", "xiaomi", "https://api.xiaomimimo.com/v1"),
        ("XIAOMI_MIMO_API_KEY", "xiaomi", "https://api.xiaomimimo.com/v1"),
        ("AWS_BEARER_TOKEN_BEDROCK", "bedrock", "https://bedrock-mantle.us-east-1.api.aws/v1"),
    ],
)
def test_minimax_mimo_and_bedrock_from_their_keys(var: str, pid: str, base: str) -> None:
    p = by_id(settings({var: "key-abcdefghijkl"}))[pid]
    assert p.base_url == base and p.keys == ("key-abcdefghijkl",) and p.auth == "bearer"


def test_key_aliases_from_the_catalog() -> None:
    assert by_id(settings({"HF_TOKEN": "hf_abcdefghijkl"}))["huggingface"].keys == ("hf_abcdefghijkl",)


@pytest.mark.parametrize(
    ("var", "value", "pid", "base"),
    [
        ("OLLAMA_URL", "localhost:11434", "ollama", "http://localhost:11434"),
        ("OLLAMA_URL", "http://192.168.1.20:11434/v1/", "ollama", "http://192.168.1.20:11434"),
        ("LLAMACPP_URL", "http://127.0.0.1:8080", "llamacpp", "http://127.0.0.1:8080/v1"),
        ("LMSTUDIO_URL", "http://localhost:1234/v1", "lmstudio", "http://localhost:1234/v1"),
        ("VLLM_URL", "http://gpu-box:8000", "vllm", "http://gpu-box:8000/v1"),
    ],
)
def test_local_servers_from_their_url_variables(var: str, value: str, pid: str, base: str) -> None:
    p = by_id(settings({var: value}))[pid]
    assert p.base_url == base and p.local and not p.probe and p.keys == ()


def test_hosted_provider_refuses_plain_http_to_a_remote_host() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        settings({"OPENAI_API_KEY": "sk-aaaaaaaaaaaa", "OPENAI_BASE_URL": "http://evil.example/v1"})


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com@evil.example/v1",
        "ftp://x.example",
        "https://169.254.169.254/v1",
        "https://0.0.0.0/v1",
        "https://[fe80::1]/v1",
        "https://[fd00:ec2::254]/v1",
        "https://x.example/v1?key=1",
        "https://0xa9.254.169.254/v1",
    ],
)
def test_dangerous_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        settings({"OPENAI_API_KEY": "sk-aaaaaaaaaaaa", "OPENAI_BASE_URL": url})


def test_key_that_would_break_a_header_is_refused() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        settings({"OPENAI_API_KEY": "sk-abc\r\nX-Evil: 1"})


def test_secrets_never_show_in_repr() -> None:
    s = settings({"OPENAI_API_KEY": "sk-secret-canary-1234567"})
    assert "canary" not in repr(s)


def test_file_settings_and_custom_provider(tmp_path: Path) -> None:
    s = settings(
        {"BOX_KEY": "box-key-123456789", "OPENAI_API_KEY": "sk-aaaaaaaaaaaa"},
        """
[server]
port = 9000
allowed_hosts = ["Switchboard.LAN"]
cors_origins = ["http://localhost:3000"]
max_body_mb = 2
shutdown_grace_seconds = 0
stream_keep_alive_seconds = 5

[upstream]
read_timeout = 99

[providers.openai]
enabled = false

[providers.box]
kind = "openai-compatible"
base_url = "http://10.0.0.5:8000/v1"
local = true
api_key_env = "BOX_KEY"
headers = { "X-Team" = "blue" }
total_timeout = 5
""",
        tmp_path,
    )
    assert s.server.port == 9000 and s.server.allowed_hosts == ("switchboard.lan",)
    assert s.server.max_body_bytes == 2 * 1024 * 1024 and s.server.shutdown_grace == 0
    assert s.server.stream_keep_alive == 5
    providers = by_id(s)
    assert "openai" not in providers
    box = providers["box"]
    assert box.keys == ("box-key-123456789",) and box.headers == (("X-Team", "blue"),)
    assert (box.timeouts.read, box.timeouts.total) == (99, 5)


def test_protocols_come_from_the_catalog_or_the_file(tmp_path: Path) -> None:
    assert by_id(settings({"OPENAI_API_KEY": "sk-aaaaaaaaaaaa"}))["openai"].protocols == (
        "openai-chat",
        "openai-responses",
    )
    s = settings(
        {"BOX_KEY": "k-123456789"},
        '[providers.box]\nkind = "openai-compatible"\nbase_url = "https://box.example/v1"\n'
        'api_key_env = "BOX_KEY"\nprotocols = ["openai-responses"]\n',
        tmp_path,
    )
    assert by_id(s)["box"].protocols == ("openai-responses",)


def test_an_ollamas_context_window_per_model(tmp_path: Path) -> None:
    s = settings({}, '[providers.ollama]\nnum_ctx = { "llama3.2" = 32768, "qwen3:8b" = 16384 }\n', tmp_path)
    assert by_id(s)["ollama"].num_ctx == (("llama3.2", 32768), ("qwen3:8b", 16384))
    assert by_id(settings())["ollama"].num_ctx == ()


def test_cli_flags_beat_the_file(tmp_path: Path) -> None:
    s = settings({}, "[server]\nport = 9000\n", tmp_path, port=0, host="localhost")
    assert (s.server.host, s.server.port) == ("localhost", 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nprot = 1\n", "unknown key 'prot'"),
        ("[server]\nport = 'x'\n", r"\[server\].port"),
        ("[server]\nport = true\n", r"\[server\].port"),
        ("[server]\nmax_body_mb = -1\n", "max_body_mb"),
        ("[bogus]\n", "unknown key 'bogus'"),
        ("[providers.groq]\nmodels = ['x']\n", "has no key"),
        ("[providers.mine]\nbase_url = 'https://x.example/v1'\n", "kind"),
        ("[providers.mine]\nkind = 'openai-compatible'\n", "base_url"),
        (
            "[providers.mine]\nkind = 'anthropic'\nbase_url = 'https://x.example'\nauth = 'none'\n"
            "protocols = ['openai-chat']\n",
            "protocols must be",
        ),
        (
            "[providers.mine]\nkind = 'openai-compatible'\nbase_url = 'https://x.example/v1'\nauth = 'none'\n"
            "protocols = ['openai-chat', 'openai-chat']\n",
            "distinct",
        ),
        ("[providers.Bad_Id]\n", "ids are lowercase"),
        (
            "[providers.openai]\napi_key_env = 'K'\nheaders = { Authorization = 'Bearer x' }\n",
            "credentials do not belong",
        ),
        (
            "[providers.ollama]\nenabled = false\nheaders = { Authorization = 'Bearer x' }\n",
            "credentials do not belong",
        ),
        ("[providers.openai]\napi_key_env = 'K'\nauth = 'magic'\n", "auth must be"),
        ("[providers.openai]\napi_key_env = 'K'\nnum_ctx = { 'gpt-4o' = 8192 }\n", "num_ctx is for Ollama"),
        ("[providers.ollama]\nnum_ctx = 32768\n", r"num_ctx must be a table of names to integers"),
        ("[providers.ollama]\nnum_ctx = { 'llama3.2' = 0 }\n", r"num_ctx must be a table"),
        ("not toml at all [", "config.toml"),
    ],
)
def test_bad_config_names_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings({"K": "key-1234567890"}, text, tmp_path)


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", {}, explicit=True)


def test_catalog_defaults_are_overridable_from_the_file(tmp_path: Path) -> None:
    s = settings({"COHERE_API_KEY": "co-key-1234567890"}, "[providers.cohere]\nstream_usage = true\n", tmp_path)
    assert by_id(s)["cohere"].stream_usage is True
    assert by_id(settings({"COHERE_API_KEY": "co-key-1234567890"}))["cohere"].stream_usage is False


ROUTING_TEXT = """
[routing]
cooldown_seconds = 20
exhausted_seconds = 7200
breaker_failures = 5
breaker_cooloff_seconds = 15
deadline_seconds = 600
affinity_minutes = 30

[aliases]
coding = ["openai/gpt-5", "groq/llama-3.3-70b-versatile"]

[models."openai/gpt-5"]
rating = 4
cost = [1, 8]
output = 64000
capabilities = ["completion", "tools"]
reasons = false

[cache]
enabled = true
ttl_seconds = 60
max_entries = 10
max_mb = 2
sampled = true

[providers.openai]
rotation = "sequential"
max_request_mb = 4
"""


def test_routing_aliases_model_facts_and_cache_are_read(tmp_path: Path) -> None:
    s = settings({"OPENAI_API_KEY": "sk-aaaaaaaaaaaa"}, ROUTING_TEXT, tmp_path)
    r = s.routing
    assert (r.policy.cooldown, r.policy.exhausted, r.policy.breaker_failures, r.policy.breaker_cooloff) == (
        20,
        7200,
        5,
        15,
    )
    assert (r.deadline, r.affinity) == (600, 1800)
    assert r.aliases == (("coding", ("openai/gpt-5", "groq/llama-3.3-70b-versatile")),)
    ((name, facts),) = r.models
    assert name == "openai/gpt-5" and (facts.rating, facts.cost, facts.output, facts.reasons) == (
        4,
        (1.0, 8.0),
        64000,
        False,
    )
    assert facts.capabilities == ("completion", "tools") and facts.context is None
    assert (r.cache.enabled, r.cache.ttl, r.cache.max_entries, r.cache.max_bytes, r.cache.sampled) == (
        True,
        60,
        10,
        2 * 1048576,
        True,
    )
    openai = by_id(s)["openai"]
    assert openai.rotation == "sequential" and openai.max_request_bytes == 4 * 1048576


def test_routing_defaults() -> None:
    r = settings().routing
    assert (r.policy.cooldown, r.policy.breaker_failures, r.deadline, r.aliases, r.cache.enabled) == (
        10,
        3,
        1800,
        (),
        False,
    )


def test_model_rules_globs_default_and_an_enforced_model_are_read_in_file_order(tmp_path: Path) -> None:
    text = (
        '[routing]\nenforce_model = "coding"\n[aliases]\n"claude-*" = ["openai/gpt-5"]\n'
        'coding = ["openai/gpt-5"]\n"*-haiku-?" = ["openai/gpt-5-mini"]\ndefault = ["openai/gpt-5-mini"]\n'
    )
    r = settings({"OPENAI_API_KEY": "sk-aaaaaaaaaaaa"}, text, tmp_path).routing
    assert [name for name, _ in r.aliases] == ["claude-*", "coding", "*-haiku-?", "default"]
    assert r.enforce_model == "coding"
    assert settings().routing.enforce_model is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[aliases]\nauto = ["openai/gpt-5"]\n', "cannot be an alias name"),
        ('[aliases]\n"claude *" = ["openai/gpt-5"]\n', "nor a pattern"),
        ('[routing]\nenforce_model = "gpt 5"\n', "enforce_model must be one alias or model name"),
        ('[aliases]\nx = ["gpt-5"]\n', 'must list routes as "provider/model"'),
        ("[aliases]\nx = []\n", 'must list routes as "provider/model"'),
        ('[models."gpt-5"]\nrating = 3\n', 'name models as "provider/model"'),
        ('[models."openai/gpt-5"]\nrating = 6\n', "rating must be an integer from 1 to 5"),
        ('[models."openai/gpt-5"]\ncost = [1]\n', "cost must be [input, output]"),
        ('[models."openai/gpt-5"]\ncapabilities = ["telepathy"]\n', "capabilities may hold only"),
        ('[models."openai/gpt-5"]\nspeed = 3\n', "unknown key 'speed'"),
        ("[routing]\nbreaker_failures = 0\n", "breaker_failures must be an integer from 1"),
        ("[routing]\nretries = 3\n", "unknown key 'retries'"),
        ("[cache]\nenabled = 1\n", "enabled must be true or false"),
        ('[providers.openai]\nrotation = "random"\n', "rotation must be one of round-robin, sequential"),
    ],
)
def test_bad_routing_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        settings({"OPENAI_API_KEY": "sk-aaaaaaaaaaaa"}, text, tmp_path)


def test_subscription_addresses_from_config_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[subscriptions]\ngithub_url = "https://github.example.com"\nin_auto = false\nrotation = "sequential"\n'
    )
    settings = load_settings(config, {"SWITCHBOARD_CODEX_BASE_URL": "http://127.0.0.1:9/backend-api/codex"})
    subs = settings.subscriptions
    assert (
        subs.github_url == "https://github.example.com"
        and subs.codex_base_url == "http://127.0.0.1:9/backend-api/codex"
    )
    assert (
        subs.usage_url == "http://127.0.0.1:9/backend-api/wham/usage"
        and subs.in_auto is False
        and subs.rotation == "sequential"
    )
    assert (
        load_settings(config, {"SWITCHBOARD_CODEX_BASE_URL": "https://codex.example/api"}).subscriptions.usage_url
        == "https://codex.example/api/api/codex/usage"
    )
    with pytest.raises(ConfigError, match="plain http"):
        load_settings(config, {"SWITCHBOARD_GITHUB_API_URL": "http://api.example.com"})
    config.write_text('[providers.codex]\nkind = "openai-compatible"\nbase_url = "https://x.example/v1"\n')
    with pytest.raises(ConfigError, match="signed-in accounts"):
        load_settings(config, {})


def test_thinking_servers_that_want_their_reasoning_back_say_so(tmp_path: Path) -> None:
    """DeepSeek's and Kimi's thinking models refuse a tool turn without the earlier thinking as
    reasoning_content; the catalog says so for them, and config can say it for any server."""
    keys = {
        "DEEPSEEK_API_KEY": "sk-deepseek-1234567890",
        "MOONSHOT_API_KEY": "sk-kimi-1234567890",
        "OPENAI_API_KEY": "sk-openai-1234567890",
    }
    found = by_id(settings(keys))
    assert (
        found["deepseek"].reasoning_history,
        found["moonshot"].reasoning_history,
        found["openai"].reasoning_history,
    ) == (True, True, False)
    config = (
        '[providers.box]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\nlocal = true\n'
        "reasoning_history = true\n"
    )
    assert by_id(settings({}, config, tmp_path))["box"].reasoning_history is True
