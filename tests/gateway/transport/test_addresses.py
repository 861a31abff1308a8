from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.transport.addresses import check_base_url, is_loopback, names_of, own_names, parse_ip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:169.254.169.254", "169.254.169.254"),
        ("example.com", None),
        ("", None),
    ],
)
def test_parse_ip_normalises_spellings(text: str, expected: str | None) -> None:
    parsed = parse_ip(text)
    assert (str(parsed) if parsed else None) == expected


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "127.0.0.1", "127.9.9.9", "::1", "[::1]", "0x7f.1"])
def test_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "localhost.evil.example", "example.com", "::"])
def test_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_base_url_is_trimmed() -> None:
    assert check_base_url(" https://api.example.com/v1/ ", plain_http_ok=False) == "https://api.example.com/v1"
    assert check_base_url("http://localhost:11434/v1", plain_http_ok=False) == "http://localhost:11434/v1"
    assert check_base_url("http://192.168.1.2:8000/v1", plain_http_ok=True) == "http://192.168.1.2:8000/v1"


@given(st.ip_addresses(v=4))
def test_link_local_v4_is_never_an_upstream(addr: ipaddress.IPv4Address) -> None:
    url = f"https://{addr}/v1"
    if addr.is_link_local or addr.is_unspecified or addr.is_multicast:
        with pytest.raises(ValueError):
            check_base_url(url, plain_http_ok=True)
    else:
        assert check_base_url(url, plain_http_ok=True) == url


def test_the_names_a_gateway_is_called_by_follow_where_it_listens() -> None:
    mine = set(own_names())
    assert names_of("localhost") == [] and names_of("127.0.0.1") == ["127.0.0.1"]  # a loopback name already
    assert names_of("127.0.0.2") == ["127.0.0.2"]  # bound there: that is how callers name it
    assert set(names_of("0.0.0.0")) == mine
    assert set(names_of("::1")) == {"[::1]"}
    assert set(names_of("10.1.2.3")) == mine | {"10.1.2.3"}
    assert set(names_of("fd00::7")) == mine | {"[fd00::7]"}
    assert set(names_of("Gateway.Example.Lan")) == mine | {"gateway.example.lan"}
