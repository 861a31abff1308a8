"""The Network section's words and choices: the proxy in use said with who named it (never an
environment variable's name nor a password), and a proxy setting read back from the file as the
three choices, its user name apart from its address."""

from __future__ import annotations

import pytest

from app.viewmodels.proxy import ProxyChoice, proxy_in_use
from gateway import NetworkStatus


@pytest.mark.parametrize(
    ("network", "said"),
    [
        (None, "Shown while the gateway runs."),
        ({"proxy": "http://proxy.corp:8080", "source": "settings"}, "Going through proxy.corp:8080, set here."),
        (
            {"proxy": "http://proxy.corp:8080", "source": "environment"},
            "Going through proxy.corp:8080, named by this computer's settings.",
        ),
        (
            {"proxy": "socks5h://[fd00::1]:1080", "source": "environment"},
            "Going through the SOCKS proxy at [fd00::1]:1080, named by this computer's settings.",
        ),
        ({"proxy": None, "source": "settings"}, "Going directly to providers, as set here."),
        ({"proxy": None, "source": "none"}, "Going directly to providers: this computer names no proxy."),
    ],
)
def test_the_proxy_in_use_in_words(network: NetworkStatus | None, said: str) -> None:
    assert proxy_in_use(network) == said
    assert "PROXY" not in said and "http://" not in said


def test_an_unusable_proxy_of_this_computers_is_said_with_what_to_do() -> None:
    problem = (
        "the proxy this computer names for https (https://proxy:3128) cannot be used:"
        " only http:// and socks5:// proxies are supported"
    )
    said = proxy_in_use({"proxy": None, "source": "environment", "problem": problem})
    assert said == f"Calls to providers fail: {problem}. Set a proxy here, or choose No proxy."
    assert "PROXY" not in said and "Going directly" not in said


@pytest.mark.parametrize(
    ("table", "choice", "setting"),
    [
        ({}, ProxyChoice(), None),
        (None, ProxyChoice(), None),
        ({"proxy": "DIRECT"}, ProxyChoice("direct"), "direct"),
        ({"proxy": "http://proxy.corp:8080"}, ProxyChoice("proxy", "http://proxy.corp:8080"), "http://proxy.corp:8080"),
        (
            {"proxy": "socks5://ann%40corp@10.0.0.1:1080"},
            ProxyChoice("proxy", "socks5://10.0.0.1:1080", "ann@corp"),
            "socks5://10.0.0.1:1080",
        ),
    ],
)
def test_a_proxy_setting_read_as_the_three_choices(
    table: dict[str, str] | None, choice: ProxyChoice, setting: str | None
) -> None:
    assert ProxyChoice.of(table) == choice
    assert choice.setting == setting
