"""[network], each provider's proxy and [subscriptions] proxy, read into NetworkSettings."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.loading import load_settings
from gateway.config.network import SUBSCRIPTION_PARTIES
from gateway.config.settings import NetworkSettings, Settings
from gateway.errors import ConfigError
from gateway.transport.proxies import DIRECT, Proxy, UnusableProxy


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, {"X": "gsk_0123456789abcdef", **(env or {})})


def test_nothing_said_means_no_proxy_setting_and_no_extra_roots(tmp_path: Path) -> None:
    assert load(tmp_path, "").network == NetworkSettings()


def test_global_proxy_ca_file_and_per_provider_proxies(tmp_path: Path) -> None:
    (tmp_path / "corp.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    network = load(
        tmp_path,
        """
[network]
proxy = "http://proxy.corp:3128"
ca_file = "corp.pem"
[providers.groq]
api_key_env = ["X"]
proxy = "socks5://10.0.0.1"
[providers.mybox]
kind = "openai-compatible"
base_url = "http://10.0.0.5:8000/v1"
local = true
proxy = "direct"
[subscriptions]
proxy = "socks5h://127.0.0.1:9050"
""",
    ).network
    assert network.proxy == Proxy("http", "proxy.corp", 3128)
    assert network.ca_file == (tmp_path / "corp.pem").resolve()
    own = dict(network.provider_proxies)
    assert own["groq"] == Proxy("socks5", "10.0.0.1", 1080)
    assert own["mybox"] == DIRECT
    assert all(own[party] == Proxy("socks5h", "127.0.0.1", 9050) for party in SUBSCRIPTION_PARTIES)


def test_credentials_in_the_address_are_kept_apart_and_never_shown(tmp_path: Path) -> None:
    proxy = load(tmp_path, '[network]\nproxy = "http://ann:s%40cret@proxy.corp:3128"\n').network.proxy
    assert isinstance(proxy, Proxy)
    assert (proxy.user, proxy.password) == ("ann", "s@cret")
    assert "s@cret" not in repr(proxy) and "ann" not in proxy.url


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('proxy = "ftp://ann:hunter22@host:21"', "not a proxy address"),
        ('proxy = "https://proxy.corp:3128"', "not a proxy address"),
        ('proxy = "http://:3128"', "no host"),
        ('proxy = "http://proxy.corp:99999"', "invalid port"),
        ('proxy = "http://proxy.corp:3128/path"', "only scheme://host:port"),
        ("proxy = 3128", "must be a proxy's address"),
        ('ca_file = "missing.pem"', "is not a file"),
        ('porxy = "direct"', "porxy"),
    ],
)
def test_a_bad_network_setting_is_refused_saying_why_without_the_password(tmp_path: Path, line: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said) as refused:
        load(tmp_path, f"[network]\n{line}\n")
    assert "hunter22" not in str(refused.value)


def test_a_bad_provider_proxy_names_its_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[providers.groq\].proxy"):
        load(tmp_path, '[providers.groq]\napi_key_env = ["X"]\nproxy = "gopher://x"\n')


def test_the_environments_proxies_are_read_unless_the_settings_name_one(tmp_path: Path) -> None:
    env = {"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": ".internal"}
    assert load(tmp_path, "", env).network.environment.https == Proxy("http", "proxy.corp", 3128)
    assert load(tmp_path, '[network]\nproxy = "direct"\n', env).network.environment.https is None


def test_an_unusable_environment_proxy_is_kept_as_such_and_the_load_goes_on(tmp_path: Path) -> None:
    """The environment is set for every program on the computer: it must not stop the gateway (the
    file's own proxy does: see above). The calls it was named for fail instead (tests/e2e)."""
    network = load(tmp_path, "", {"HTTPS_PROXY": "https://ann:hunter22@proxy.corp:3128", "ALL_PROXY": "x:y:z"}).network
    assert isinstance(network.environment.https, UnusableProxy) and isinstance(network.environment.all, UnusableProxy)
    assert network.environment.https.shown == "https://proxy.corp:3128"
    assert "hunter22" not in repr(network)
    assert load(tmp_path, '[network]\nproxy = "direct"\n', {"ALL_PROXY": "gopher://x"}).network.environment.all is None


def test_an_account_may_have_its_own_proxy_and_nothing_else(tmp_path: Path) -> None:
    network = load(tmp_path, '[accounts."codex:ada@example.com"]\nproxy = "direct"\n').network
    assert network.account_proxies == (("codex:ada@example.com", DIRECT),)
    with pytest.raises(ConfigError, match=r'\[accounts."copilot:ann"\]: unknown key \'rotation\''):
        load(tmp_path, '[accounts."copilot:ann"]\nrotation = "sequential"\n')
    with pytest.raises(ConfigError, match=r'\[accounts."copilot:ann"\].proxy: .* is not a proxy address'):
        load(tmp_path, '[accounts."copilot:ann"]\nproxy = "ftp://ann:pw@proxy:21"\n')
