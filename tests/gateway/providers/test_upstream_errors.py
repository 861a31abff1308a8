"""A 404 or 405 that says an endpoint is missing, told from one that says a model is unknown."""

from __future__ import annotations

import pytest

from gateway.providers.upstream_errors import missing_endpoint, upstream_error

HTML = {"Content-Type": "text/html"}
JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (404, TEXT, b"404 page not found"),  # Go's net/http and gin (an older Ollama)
        (404, HTML, b"<html><body><h1>Not Found</h1></body></html>"),
        (404, JSON, b'{"detail":"Not Found"}'),  # FastAPI (llama-cpp-python)
        (
            404,
            JSON,
            b'{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}',
        ),  # llama.cpp's server
        (405, JSON, b'{"detail":"Method Not Allowed"}'),
        (405, TEXT, b""),
    ],
)
def test_an_endpoint_the_server_does_not_have(status: int, headers: dict[str, str], body: bytes) -> None:
    assert missing_endpoint(upstream_error("local", status, headers, body, 0.0, ()))


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            404,
            b'{"error":{"message":"The model `gpt-x` does not exist or you do not have access to it.",'
            b'"type":"invalid_request_error","param":null,"code":"model_not_found"}}',
        ),
        (404, b'{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}'),
        (404, b'{"error":"model \\"llama9\\" not found, try pulling it first"}'),  # Ollama
        (
            404,
            b'{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}',
        ),  # Azure
        (400, b'{"detail":"Not Found"}'),
        (500, b"404 page not found"),
    ],
)
def test_a_model_the_server_does_not_have_or_another_failure(status: int, body: bytes) -> None:
    assert not missing_endpoint(upstream_error("local", status, JSON, body, 0.0, ()))


def test_a_provider_named_after_models_is_not_mistaken_for_one() -> None:
    assert missing_endpoint(upstream_error("models", 404, JSON, b'{"detail":"Not Found"}', 0.0, ()))
