"""The guard, tried over raw HTTP the way a hostile page, a confused script or a fuzzer would.

SECURITY.md S6–S9, S23, S25, S27, B1–B22, B44: every refusal is JSON in OpenAI's shape with a
request id, and a refused request never reaches the upstream.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib

import pytest
from conftest import StartGateway
from fakes.openai_upstream import FakeOpenAI
from fakes.sink import Sink
from fakes.upstream import Script

from gateway import GatewayServer

CHAT = b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"hi"}]}'


def port_of(gateway: GatewayServer) -> int:
    """The port a started gateway listens on."""
    assert gateway.port is not None, "the gateway is not listening"
    return gateway.port


async def raw(
    port: int, request: bytes, *, read_timeout: float = 3.0, address: str = "127.0.0.1"
) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(address, port)
    writer.write(request)
    await writer.drain()
    try:
        async with asyncio.timeout(read_timeout):
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
    finally:
        writer.close()
    return status, headers, body


def post(
    port: int, body: bytes = CHAT, *, host: str | None = None, headers: str = "", path: str = "/v1/chat/completions"
) -> bytes:
    host_line = f"Host: {host if host is not None else f'127.0.0.1:{port}'}\r\n" if host != "" else ""
    return (
        f"POST {path} HTTP/1.1\r\n{host_line}Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{headers}Connection: close\r\n\r\n"
    ).encode() + body


def get(port: int, path: str = "/v1/models", *, host: str | None = None, headers: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n{headers}Connection: close\r\n\r\n".encode()


# --- S6, S7: Host allow-list ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
async def test_loopback_names_with_our_port_are_allowed(gateway: GatewayServer, name: str) -> None:
    status, headers, _ = await raw(port_of(gateway), get(port_of(gateway), host=f"{name}:{gateway.port}"))
    assert status == 200 and headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "localhost.evil.example",
        "127.0.0.1.nip.io",
        "x.local",
        "x.internal",
        "0.0.0.0:{port}",
        "localhost.:{port}",
        "127.0.0.1:1",
        "localhost",
        ":{port}",
        "attacker:{port}",
        "127.0.0.2:{port}",
        "[::ffff:127.0.0.1]:{port}",
        "2130706433:{port}",
    ],
)
async def test_foreign_hosts_are_refused_before_any_upstream_call(
    gateway: GatewayServer, upstream: FakeOpenAI, host: str
) -> None:
    status, headers, body = await raw(port_of(gateway), post(port_of(gateway), host=host.format(port=port_of(gateway))))
    assert status in (400, 403)
    assert json.loads(body)["error"]["type"] in ("permission_error", "invalid_request_error")
    assert headers["x-request-id"].startswith("req_")
    assert upstream.chat_requests == []


@pytest.mark.parametrize("host", ["a/b", "a?b", "a#b", "user@127.0.0.1", "a b"])
async def test_malformed_hosts_are_400(gateway: GatewayServer, upstream: FakeOpenAI, host: str) -> None:
    status, _, _body = await raw(port_of(gateway), post(port_of(gateway), host=host))
    assert status == 400
    assert upstream.chat_requests == []


async def test_missing_host_is_400(gateway: GatewayServer) -> None:
    status, _, _ = await raw(port_of(gateway), b"GET /v1/models HTTP/1.0\r\n\r\n")
    assert status == 400


async def test_absolute_form_target_is_refused(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    request = (
        f"GET http://evil.example/v1/models HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nConnection: close\r\n\r\n"
    )
    status, _, _ = await raw(port_of(gateway), request.encode())
    assert status == 400


async def test_configured_extra_host_name_is_allowed(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    from conftest import FAKE_KEY, provider_table

    gw = await start_gateway(
        '[server]\nallowed_hosts = ["switchboard.lan"]\n' + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}
    )
    # /health: past the guard; a model route under this name needs a key (test_keyfree_needs_a_loopback_name)
    status, _, _ = await raw(port_of(gw), get(port_of(gw), "/health", host=f"switchboard.lan:{gw.port}"))
    assert status == 200


# --- S8, S9: Origin and CORS ------------------------------------------------------------------


async def test_foreign_origin_is_refused_without_cors_grant(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    status, headers, _ = await raw(port_of(gateway), post(port_of(gateway), headers="Origin: https://evil.example\r\n"))
    assert status == 403
    assert "access-control-allow-origin" not in headers
    assert upstream.chat_requests == []
    status, headers, _ = await raw(port_of(gateway), get(port_of(gateway), headers="Origin: https://evil.example\r\n"))
    assert status == 403 and "access-control-allow-origin" not in headers


async def test_preflight_from_foreign_origin_gets_no_grant(gateway: GatewayServer) -> None:
    request = (
        f"OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nOrigin: https://evil.example\r\n"
        "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Private-Network: true\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    status, headers, _ = await raw(port_of(gateway), request)
    assert status == 403
    assert not any(name.startswith("access-control-") for name in headers)


async def test_configured_origin_gets_an_exact_grant(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    from conftest import FAKE_KEY, provider_table

    gw = await start_gateway(
        '[server]\ncors_origins = ["http://localhost:3000"]\n' + provider_table("fake", upstream),
        {"FAKE_KEY": FAKE_KEY},
    )
    request = (
        f"OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\nOrigin: http://localhost:3000\r\n"
        "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, authorization\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    status, headers, _ = await raw(port_of(gw), request)
    assert status == 204
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    assert headers["access-control-allow-headers"] == "content-type, authorization"
    assert headers["vary"] == "Origin"
    status, headers, _ = await raw(port_of(gw), post(port_of(gw), headers="Origin: http://localhost:3000\r\n"))
    assert status == 200 and headers["access-control-allow-origin"] == "http://localhost:3000"


async def test_cross_site_fetch_metadata_is_refused(gateway: GatewayServer) -> None:
    status, _, _ = await raw(port_of(gateway), get(port_of(gateway), headers="Sec-Fetch-Site: cross-site\r\n"))
    assert status == 403


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
    ],
)
async def test_non_json_content_types_are_415(gateway: GatewayServer, upstream: FakeOpenAI, content_type: str) -> None:
    request = post(port_of(gateway)).replace(
        b"Content-Type: application/json", f"Content-Type: {content_type}".encode()
    )
    status, _, body = await raw(port_of(gateway), request)
    assert status == 415 and json.loads(body)["error"]["code"] == "unsupported_media_type"
    assert upstream.chat_requests == []


# --- body size and encoding (S38, B15, B22) ---------------------------------------------------


async def test_declared_oversize_body_is_413_before_it_is_sent(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gw = await start_gateway("[server]\nmax_body_mb = 0.01\n")
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\nContent-Type: application/json\r\n"
        "Content-Length: 50000000\r\n\r\n"
    ).encode()
    status, headers, body = await raw(port_of(gw), head)  # the 50 MB body is never sent
    assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"
    assert headers.get("connection") == "close"


async def test_expect_continue_with_oversize_length_gets_413_not_100(start_gateway: StartGateway) -> None:
    gw = await start_gateway("[server]\nmax_body_mb = 0.01\n")
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\nContent-Type: application/json\r\n"
        "Content-Length: 50000000\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    status, _, _ = await raw(port_of(gw), head)
    assert status == 413


async def test_chunked_oversize_body_is_413(start_gateway: StartGateway) -> None:
    gw = await start_gateway("[server]\nmax_body_mb = 0.01\n")
    chunk = b"x" * 4096
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode() + body
    status, _, _ = await raw(port_of(gw), request)
    assert status == 413


async def test_gzip_bomb_is_413(start_gateway: StartGateway) -> None:
    gw = await start_gateway("[server]\nmax_body_mb = 0.01\n")
    bomb = gzip.compress(b'{"model":"' + b"a" * 5_000_000 + b'"}')
    status, _, _ = await raw(port_of(gw), post(port_of(gw), bomb, headers="Content-Encoding: gzip\r\n"))
    assert status == 413


async def test_gzip_and_deflate_bodies_are_accepted(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    for encoding, data in (("gzip", gzip.compress(CHAT)), ("deflate", zlib.compress(CHAT))):
        status, _, _ = await raw(
            port_of(gateway), post(port_of(gateway), data, headers=f"Content-Encoding: {encoding}\r\n")
        )
        assert status == 200
    assert len(upstream.chat_requests) == 2


async def test_unsupported_content_encoding_is_415(gateway: GatewayServer) -> None:
    status, _, _ = await raw(
        port_of(gateway), post(port_of(gateway), b"xxxx", headers="Content-Encoding: compress\r\n")
    )
    assert status == 415


# --- B1–B16: bodies ----------------------------------------------------------------------------

BAD_BODIES = {
    "not json": (b"hello", None),
    "truncated": (b'{"model": "fake/gpt-test", "messages": [', None),
    "trailing garbage": (CHAT + b"}}", None),
    "empty": (b"", None),
    "null": (b"null", None),
    "array": (b"[]", None),
    "string": (b'"x"', None),
    "messages as string": (b'{"model":"fake/gpt-test","messages":"x"}', "messages"),
    "content as number": (b'{"model":"fake/gpt-test","messages":[{"role":"user","content":5}]}', "messages[0].content"),
    "stream as string": (
        b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"stream":"false"}',
        "stream",
    ),
    "temperature as string": (
        b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"temperature":"0.5"}',
        "temperature",
    ),
    "max_tokens true": (
        b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"max_tokens":true}',
        "max_tokens",
    ),
    "max_tokens negative": (
        b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"max_tokens":-1}',
        "max_tokens",
    ),
    "max_tokens fractional": (
        b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"max_tokens":1.5}',
        "max_tokens",
    ),
    "n huge": (b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"n":1000000}', "n"),
    "1e309": (
        b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"temperature":1e309}',
        "temperature",
    ),
    "NaN": (b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"temperature":NaN}', "temperature"),
    "Infinity": (b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"top_p":-Infinity}', "top_p"),
    "5000 digit int": (
        b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"seed":' + b"9" * 5000 + b"}",
        "seed",
    ),
    "deep nesting": (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", None),
    "nesting past 254": (
        b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"x":' + b"[" * 300 + b"]" * 300 + b"}",
        None,
    ),
    "duplicate model": (
        b'{"model":"fake/gpt-test","model":"fake/gpt-other","messages":[{"role":"user","content":"x"}]}',
        "model",
    ),
    "invalid utf-8": (b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"\xff\xfe"}]}', None),
    "lone surrogate": (b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"\\ud800"}]}', None),
    "byte order mark": (b"\xef\xbb\xbf" + CHAT, None),
    "missing model": (b'{"messages":[{"role":"user","content":"x"}]}', "model"),
    "missing messages": (b'{"model":"fake/gpt-test"}', "messages"),
    "empty messages": (b'{"model":"fake/gpt-test","messages":[]}', "messages"),
    "unknown role": (b'{"model":"fake/gpt-test","messages":[{"role":"wizard","content":"x"}]}', "messages[0].role"),
    "model with ..": (b'{"model":"fake/../etc","messages":[{"role":"user","content":"x"}]}', "model"),
    "model with CRLF": (b'{"model":"fake/a\\r\\nX: y","messages":[{"role":"user","content":"x"}]}', "model"),
    "model with NUL": (b'{"model":"fake/a\\u0000","messages":[{"role":"user","content":"x"}]}', "model"),
    "model with %2f": (b'{"model":"fake%2fgpt","messages":[{"role":"user","content":"x"}]}', "model"),
    "model too long": (b'{"model":"' + b"m" * 200 + b'","messages":[{"role":"user","content":"x"}]}', "model"),
    "stream_options without stream": (
        b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}',
        "stream_options",
    ),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
async def test_bad_bodies_are_400_naming_the_field(gateway: GatewayServer, upstream: FakeOpenAI, name: str) -> None:
    body, param = BAD_BODIES[name]
    status, _headers, raw_body = await raw(port_of(gateway), post(port_of(gateway), body))
    assert status == 400, raw_body
    error = json.loads(raw_body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert "Traceback" not in error["message"]
    assert upstream.chat_requests == []


@pytest.mark.parametrize(
    ("field", "item", "count"),
    [("messages", b'{"role":"user","content":""}', 60_000), ("tools", b'{"type":"function"}', 10_000)],
)
async def test_count_caps_refuse_huge_lists(
    gateway: GatewayServer, upstream: FakeOpenAI, field: str, item: bytes, count: int
) -> None:
    listed = b"[" + b",".join([item] * count) + b"]"
    body = b'{"model":"fake/gpt-test","messages":[{"role":"user","content":"x"}],"%s":%s}' % (field.encode(), listed)
    if field == "messages":
        body = b'{"model":"fake/gpt-test","messages":%s}' % listed
    status, _, raw_body = await raw(port_of(gateway), post(port_of(gateway), body), read_timeout=20)
    assert status == 400 and json.loads(raw_body)["error"]["param"] == field
    assert upstream.chat_requests == []


async def test_a_million_messages_are_refused(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    body = b'{"model":"fake/gpt-test","messages":[' + b",".join([b'{"role":"user","content":""}'] * 1_000_000) + b"]}"
    status, _, _raw_body = await raw(port_of(gateway), post(port_of(gateway), body), read_timeout=20)
    assert status == 413  # 29 MB: refused from Content-Length before it is read
    assert upstream.chat_requests == []


async def test_a_large_single_string_within_the_limit_goes_through(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    text = "x" * 9_000_000
    body = json.dumps({"model": "fake/gpt-test", "messages": [{"role": "user", "content": text}]}).encode()
    status, _, _ = await raw(port_of(gateway), post(port_of(gateway), body), read_timeout=20)
    assert status == 200
    assert upstream.chat_requests[-1].json["messages"][0]["content"] == text


# --- B17, B20: paths and methods ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/v1/chat", "/v1/%2e%2e/admin", "//v1/models", "/v1/models%2f..%2f"])
async def test_unknown_paths_are_json_404(gateway: GatewayServer, path: str) -> None:
    status, headers, body = await raw(port_of(gateway), get(port_of(gateway), path))
    assert status == 404
    assert json.loads(body)["error"]["type"] == "not_found_error"
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize("method", ["DELETE", "PUT", "TRACE", "PATCH"])
async def test_wrong_methods_are_json_405(gateway: GatewayServer, method: str) -> None:
    request = (
        f"{method} /v1/models HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n"
    )
    status, headers, body = await raw(port_of(gateway), request.encode())
    assert status == 405
    assert "GET" in headers["allow"]
    assert json.loads(body)["error"]["code"] == "method_not_allowed"


async def test_health_needs_no_upstream(start_gateway: StartGateway) -> None:
    gw = await start_gateway()
    status, headers, body = await raw(port_of(gw), get(port_of(gw), "/health"))
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert headers["server"] == "switchboard"


async def test_pipelined_request_after_a_refusal_is_parsed_cleanly(gateway: GatewayServer) -> None:
    bad = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nContent-Type: application/json\r\n"
        "Content-Length: 5\r\n\r\nhello"
    ).encode()
    good = get(port_of(gateway), "/health")
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(gateway))
    writer.write(bad + good)
    data = b""
    async with asyncio.timeout(3):
        while data.count(b"HTTP/1.1 ") < 2 or not data.endswith(b"}"):
            chunk = await reader.read(65536)
            if not chunk:
                break
            data += chunk
    writer.close()
    assert data.startswith(b"HTTP/1.1 400") and b"HTTP/1.1 200" in data and b'"status":"ok"' in data


# --- S23, S25, S27, B44: where credentials and headers go --------------------------------------


async def test_client_cannot_steer_the_upstream(gateway: GatewayServer, upstream: FakeOpenAI, sink: Sink) -> None:
    body = json.dumps(
        {
            "model": "fake/gpt-test",
            "messages": [{"role": "user", "content": "hi"}],
            "api_base": sink.url,
            "base_url": sink.url,
            "url": sink.url,
            "endpoint": sink.url,
        }
    ).encode()
    extra = f"X-Forwarded-Host: 127.0.0.1:{sink.port}\r\nX-Upstream: {sink.url}\r\nX-Forwarded-For: 127.0.0.1\r\n"
    status, _, _ = await raw(port_of(gateway), post(port_of(gateway), body, headers=extra))
    assert status == 200
    assert sink.connections == 0
    assert len(upstream.chat_requests) == 1


async def test_only_the_provider_credential_and_safe_headers_go_upstream(
    gateway: GatewayServer, upstream: FakeOpenAI
) -> None:
    extra = (
        "Authorization: Bearer client-secret-gateway-key\r\nx-api-key: client-secret-gateway-key\r\n"
        "Cookie: session=abc\r\n"
        "X-Forwarded-For: 10.0.0.1\r\nOpenAI-Organization: org-client\r\nProxy-Authorization: Basic eHg6eXk=\r\n"
    )
    status, _, _ = await raw(port_of(gateway), post(port_of(gateway), headers=extra))
    assert status == 200
    sent = {k.lower(): v for k, v in upstream.chat_requests[-1].headers.items()}
    assert sent["authorization"] == "Bearer sk-fake-upstream-key-0001"
    assert sent["host"] == f"127.0.0.1:{upstream.port}"
    assert sent["user-agent"].startswith("Switchboard/")
    for header in ("x-api-key", "cookie", "x-forwarded-for", "openai-organization", "proxy-authorization"):
        assert header not in sent
    assert "client-secret" not in json.dumps(sent)


async def test_upstream_cookies_and_cors_headers_are_not_relayed(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(
        Script(
            "status",
            status=400,
            body=b'{"error":{"message":"nope","type":"invalid_request_error"}}',
            headers={"Set-Cookie": "track=1", "Access-Control-Allow-Origin": "*"},
        )
    )
    status, headers, _ = await raw(port_of(gateway), post(port_of(gateway)))
    assert status == 400
    assert "set-cookie" not in headers and "access-control-allow-origin" not in headers


async def test_redirects_are_not_followed(gateway: GatewayServer, upstream: FakeOpenAI, sink: Sink) -> None:
    upstream.then(Script("redirect", location=f"{sink.url}/v1/chat/completions"))
    status, _, body = await raw(port_of(gateway), post(port_of(gateway)))
    assert status == 502 and "redirect" in json.loads(body)["error"]["message"]
    assert sink.connections == 0


async def test_credential_echoed_by_the_upstream_is_masked(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(Script("echo_auth"))
    status, _, body = await raw(port_of(gateway), post(port_of(gateway)))
    assert status == 400
    assert b"sk-fake-upstream-key-0001" not in body
    assert b"fake-upstream-key" not in body


async def test_error_object_in_a_200_answer_is_an_error(gateway: GatewayServer, upstream: FakeOpenAI) -> None:
    upstream.then(Script("json_200_error"))
    status, _, body = await raw(port_of(gateway), post(port_of(gateway)))
    assert status == 502 and "overloaded" in json.loads(body)["error"]["message"]


async def test_a_name_given_with_a_port_is_the_balancers(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    """``name:443``: an ingress in front is called by that name, and passes the Host on as its clients
    sent it (no port: HTTPS's default); the gateway's own port under that name is not one of them."""
    from conftest import FAKE_KEY, provider_table

    config = '[server]\nallowed_hosts = ["switchboard.corp:443", "edge.corp:8443"]\n' + provider_table("fake", upstream)
    gw = await start_gateway(config, {"FAKE_KEY": FAKE_KEY})
    port = port_of(gw)
    for host, expected in [
        ("switchboard.corp", 200),
        ("switchboard.corp:443", 200),
        ("edge.corp:8443", 200),
        ("edge.corp", 403),
        (f"switchboard.corp:{port}", 403),
        ("switchboard.corp:80", 403),
    ]:
        status, _, _ = await raw(port, get(port, "/health", host=host))
        assert (host, status) == (host, expected)


async def test_the_address_it_is_bound_to_is_a_name_it_answers(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    """Bound to one address (behind a balancer on this machine, or one interface of several), callers
    name it by that address: no attacker's name can be one, so it needs no ``allowed_hosts`` entry."""
    from conftest import FAKE_KEY, provider_table

    gw = await start_gateway(
        '[server]\nhost = "127.0.0.2"\n' + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}
    )
    port = port_of(gw)
    status, _, _ = await raw(port, get(port, "/health", host=f"127.0.0.2:{port}"), address="127.0.0.2")
    assert status == 200
    status, _, _ = await raw(port, get(port, "/health", host=f"127.0.0.3:{port}"), address="127.0.0.2")
    assert status == 403
