"""Which proxy carries the calls to an upstream: the environment's rules (as curl and httpx read
them), the settings over the environment, a provider's own over both, loopback never proxied."""

from __future__ import annotations

import pytest

from gateway.transport.proxies import (
    DIRECT,
    NOBODY,
    Chosen,
    EnvironmentProxies,
    Proxy,
    ProxyPlan,
    ProxySetting,
    UnusableProxy,
    environment_proxies,
    parse_proxy,
)

CORP = Proxy("http", "proxy.corp", 3128)
SOCKS = Proxy("socks5", "10.1.1.1", 1080)
OTHER = Proxy("http", "other.corp", 8080)


def env_plan(env: dict[str, str]) -> ProxyPlan:
    return ProxyPlan(environment=environment_proxies(env))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://proxy.corp:3128", CORP),
        ("HTTP://Proxy.Corp:3128/", CORP),
        ("socks5://10.1.1.1", SOCKS),
        ("socks5h://[::1]:9050", Proxy("socks5h", "::1", 9050)),
        ("http://proxy.corp", Proxy("http", "proxy.corp", 80)),
        (" direct ", DIRECT),
        ("DIRECT", DIRECT),
    ],
)
def test_proxy_addresses(text: str, expected: ProxySetting) -> None:
    assert parse_proxy(text) == expected


def test_a_bare_host_port_from_the_environment_is_http_as_curl_takes_it() -> None:
    assert parse_proxy("proxy.corp:3128", default_scheme="http") == CORP
    with pytest.raises(ValueError, match="not a proxy address"):
        parse_proxy("proxy.corp:3128")


def test_where_and_url_never_carry_the_credentials() -> None:
    proxy = parse_proxy("http://ann%40corp:p%3Ass@proxy.corp:3128")
    assert isinstance(proxy, Proxy)
    assert (proxy.user, proxy.password) == ("ann@corp", "p:ss")
    assert proxy.where == "proxy.corp:3128" and proxy.url == "http://proxy.corp:3128"
    assert "p:ss" not in repr(proxy) and "ann" not in repr(proxy)
    assert Proxy("socks5", "::1", 1080).where == "[::1]:1080"


PROXIED = Chosen(CORP, "environment")


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({}, "https://api.groq.com", NOBODY),
        ({"HTTPS_PROXY": "http://proxy.corp:3128"}, "https://api.groq.com", PROXIED),
        ({"https_proxy": "http://proxy.corp:3128", "HTTPS_PROXY": "http://other.corp:8080"}, "https://a.io", PROXIED),
        ({"HTTPS_PROXY": "proxy.corp:3128"}, "https://api.groq.com", PROXIED),
        ({"HTTPS_PROXY": "http://proxy.corp:3128"}, "http://10.0.0.5:8000", NOBODY),
        ({"HTTP_PROXY": "http://proxy.corp:3128"}, "http://10.0.0.5:8000", PROXIED),
        ({"HTTP_PROXY": "http://proxy.corp:3128"}, "https://api.groq.com", NOBODY),
        ({"ALL_PROXY": "socks5://10.1.1.1"}, "https://a.io", Chosen(SOCKS, "environment")),
        ({"all_proxy": "http://other.corp:8080", "https_proxy": "http://proxy.corp:3128"}, "https://a.io", PROXIED),
        ({"HTTPS_PROXY": ""}, "https://a.io", NOBODY),
        # loopback is never proxied, whatever the environment says
        ({"ALL_PROXY": "http://proxy.corp:3128"}, "http://127.0.0.1:11434", NOBODY),
        ({"ALL_PROXY": "http://proxy.corp:3128"}, "http://localhost:1234", NOBODY),
        ({"ALL_PROXY": "http://proxy.corp:3128"}, "http://[::1]:8080", NOBODY),
    ],
)
def test_environment_proxies_by_scheme(env: dict[str, str], url: str, expected: Chosen) -> None:
    scheme, _, rest = url.partition("://")
    host, _, port = rest.rpartition(":") if rest.count(":") == 1 or rest.startswith("[") else (rest, "", "")
    host = host.strip("[]")
    assert env_plan(env).choose(scheme, host, int(port or (443 if scheme == "https" else 80))) == expected


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypassed"),
    [
        ("*", "api.groq.com", 443, True),
        ("groq.com", "api.groq.com", 443, True),
        ("groq.com", "groq.com", 443, True),
        (".groq.com", "api.groq.com", 443, True),
        (".groq.com", "groq.com", 443, True),
        ("*.groq.com", "api.groq.com", 443, True),
        ("groq.com", "notgroq.com", 443, False),
        ("groq.com.", "api.groq.com", 443, True),
        ("GROQ.COM", "api.groq.com", 443, True),
        ("a.io, groq.com", "api.groq.com", 443, True),
        ("a.io groq.com", "api.groq.com", 443, True),
        ("groq.com:443", "api.groq.com", 443, True),
        ("groq.com:8443", "api.groq.com", 443, False),
        ("10.0.0.0/8", "10.2.3.4", 443, True),
        ("10.0.0.0/8", "11.2.3.4", 443, False),
        ("10.0.0.0/8", "ten.corp", 443, False),
        ("192.168.1.7", "192.168.1.7", 443, True),
        ("192.168.1.7:8000", "192.168.1.7", 8000, True),
        ("192.168.1.7:8000", "192.168.1.7", 443, False),
        ("fd00::/8", "fd12::1", 443, True),
        ("[fd12::1]:443", "fd12::1", 443, True),
        ("fd12::1", "fd12::1", 443, True),
        ("10.0.0.0/8", "fd12::1", 443, False),
        ("", "api.groq.com", 443, False),
        ("not a cidr/99", "api.groq.com", 443, False),
    ],
)
def test_no_proxy(no_proxy: str, host: str, port: int, bypassed: bool) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        plan = env_plan({"HTTPS_PROXY": "http://proxy.corp:3128", name: no_proxy})
        assert plan.choose("https", host, port) == (NOBODY if bypassed else PROXIED), (name, no_proxy, host)


def test_an_unusable_environment_proxy_is_kept_for_its_scheme_saying_why_without_the_password() -> None:
    env = environment_proxies(
        {"HTTPS_PROXY": "https://ann:hunter22@proxy.corp:3128", "http_proxy": "proxy.corp:99999", "NO_PROXY": ".corp"}
    )
    assert isinstance(env.https, UnusableProxy) and isinstance(env.http, UnusableProxy)
    assert env.https.problem == (
        "the proxy this computer names for https (https://proxy.corp:3128) cannot be used:"
        " only http:// and socks5:// proxies are supported"
    )
    assert env.http.problem == (
        "the proxy this computer names for http (http://proxy.corp:99999) cannot be used: it has an invalid port"
    )
    assert (env.https.variable, env.http.variable) == ("HTTPS_PROXY", "http_proxy")  # for the log alone
    assert "hunter22" not in repr(env) + env.https.problem
    plan = ProxyPlan(environment=env)
    assert plan.choose("https", "api.groq.com", 443) == Chosen(env.https, "environment")  # not around it, directly
    assert plan.choose("http", "10.0.0.5", 8000) == Chosen(env.http, "environment")
    assert plan.choose("https", "api.internal.corp", 443) == NOBODY  # NO_PROXY still says what goes directly
    assert plan.choose("http", "127.0.0.1", 8000) == NOBODY  # and loopback never goes through a proxy
    assert plan.unusable == (env.https, env.http) and plan.in_use() == Chosen(env.https, "environment")
    own = ProxyPlan(own={"groq": SOCKS}, environment=env, accounts={"codex:ann": DIRECT})
    assert own.choose("https", "api.groq.com", 443, "groq") == Chosen(SOCKS, "settings")
    assert own.choose("https", "chatgpt.com", 443, "codex", "codex:ann") == Chosen(None, "settings")
    assert ProxyPlan(OTHER, environment=env).choose("https", "api.groq.com", 443) == Chosen(OTHER, "settings")
    assert ProxyPlan(DIRECT, environment=env).unusable == ()
    assert env_plan({"HTTPS_PROXY": "https://proxy.corp:3128", "NO_PROXY": "*"}).unusable == ()  # would carry none


def test_a_working_https_proxy_is_used_when_only_the_catch_all_is_unusable() -> None:
    env = environment_proxies({"HTTPS_PROXY": "http://proxy.corp:3128", "ALL_PROXY": "gopher://x"})
    assert isinstance(env.all, UnusableProxy)
    assert env.all.problem.startswith("the proxy this computer names for every connection (gopher://x)")
    assert ProxyPlan(environment=env).choose("https", "api.groq.com", 443) == PROXIED
    assert ProxyPlan(environment=env).choose("http", "10.0.0.5", 80) == Chosen(env.all, "environment")


ENV = environment_proxies({"HTTPS_PROXY": "http://other.corp:8080", "NO_PROXY": "internal.corp"})


@pytest.mark.parametrize(
    ("setting", "own", "party", "host", "expected"),
    [
        (None, {}, "groq", "api.groq.com", Chosen(OTHER, "environment")),
        (CORP, {}, "groq", "api.groq.com", Chosen(CORP, "settings")),
        (DIRECT, {}, "groq", "api.groq.com", Chosen(None, "settings")),
        # the settings win over the environment's no_proxy too: they are said for this gateway
        (CORP, {}, "groq", "api.internal.corp", Chosen(CORP, "settings")),
        (None, {}, "groq", "api.internal.corp", NOBODY),
        # a provider's own wins over [network] and over the environment
        (CORP, {"groq": SOCKS}, "groq", "api.groq.com", Chosen(SOCKS, "settings")),
        (CORP, {"groq": DIRECT}, "groq", "api.groq.com", Chosen(None, "settings")),
        (None, {"groq": DIRECT}, "groq", "api.groq.com", Chosen(None, "settings")),
        (CORP, {"groq": SOCKS}, "openai", "api.openai.com", Chosen(CORP, "settings")),
        (None, {"groq": SOCKS}, "openai", "api.openai.com", Chosen(OTHER, "environment")),
        # loopback: never, whatever is said
        (CORP, {"ollama": SOCKS}, "ollama", "127.0.0.1", NOBODY),
        (CORP, {}, "x", "localhost", NOBODY),
    ],
)
def test_settings_over_environment_and_a_providers_own_over_both(
    setting: ProxySetting | None, own: dict[str, ProxySetting], party: str, host: str, expected: Chosen
) -> None:
    plan = ProxyPlan(setting, own, ENV if setting is None else EnvironmentProxies())
    assert plan.choose("https", host, 443, party) == expected


def test_decided_once_per_origin() -> None:
    plan = env_plan({"HTTPS_PROXY": "http://proxy.corp:3128"})
    first = plan.choose("https", "api.groq.com", 443, "groq")
    assert plan.choose("https", "API.groq.com.", 443, "openai") == first  # spelled otherwise, the same answer
    assert plan.choose("https", "api.groq.com", 443, "groq") is first


@pytest.mark.parametrize(
    ("plan", "in_use", "anywhere"),
    [
        (ProxyPlan(), NOBODY, False),
        (ProxyPlan(CORP), Chosen(CORP, "settings"), True),
        (ProxyPlan(DIRECT), Chosen(None, "settings"), False),
        (ProxyPlan(DIRECT, {"groq": SOCKS}), Chosen(None, "settings"), True),
        (env_plan({"ALL_PROXY": "socks5://10.1.1.1"}), Chosen(SOCKS, "environment"), True),
        (env_plan({"HTTP_PROXY": "http://proxy.corp:3128"}), NOBODY, True),
        (env_plan({"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "*"}), NOBODY, False),
    ],
)
def test_what_a_status_shows(plan: ProxyPlan, in_use: Chosen, anywhere: bool) -> None:
    assert plan.in_use() == in_use
    assert plan.anywhere is anywhere
