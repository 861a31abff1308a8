from __future__ import annotations

import pytest

from gateway.admin.settings import audited_value
from gateway.redact import mask_key, redact

SHAPES = [
    "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789",
    "sk-or-v1-0123456789abcdef0123456789abcdef",
    "sk-abcdefghijklmnopqrstuvwxyz",
    "ghu_abcdefghijklmnopqrstuvwxyz0123",
    "gho_abcdefghijklmnopqrstuvwxyz0123",
    "ghp_abcdefghijklmnopqrstuvwxyz0123",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlc2lnbmF0dXJl",
    "AIzaSyA-abcdefghijklmnopqrstuvwxyz012",
    "gsk_abcdefghijklmnopqrstuvwxyz0123",
    "xai-abcdefghijklmnopqrstuvwxyz0123",
    "hf_abcdefghijklmnopqrstuvwxyz",
    "nvapi-abcdefghijklmnopqrstuvwxyz",
    "sb-app-Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdo",  # the tray app's own key
]


def test_a_password_in_an_address_is_masked() -> None:
    out = redact("proxy http://ada:hunter2-secret@proxy.example:8080/ and https://tok3nvalue@git.example/x")
    assert "hunter2-secret" not in out and "tok3nvalue" not in out
    assert "http://****@proxy.example:8080/" in out and "https://****@git.example/x" in out
    assert redact("https://api.example.com/v1/models?limit=2") == "https://api.example.com/v1/models?limit=2"


@pytest.mark.parametrize("secret", SHAPES)
def test_credential_shapes_are_masked(secret: str) -> None:
    for text in (f"error: {secret} was rejected", f"Authorization: Bearer {secret}", f"{secret}"):
        out = redact(text)
        assert secret not in out
        assert secret[-8:] not in out


@pytest.mark.parametrize(
    "text",
    [
        "https://x.example/v1/models?key=AIzaSecret1234567890",
        "GET /cb?code=1&access_token=abcdef123456&x=1",
        "token ghs_abcdefghijklmnop12345",
        "password=hunter2hunter2",
    ],
)
def test_secrets_in_urls_and_schemes_are_masked(text: str) -> None:
    out = redact(text)
    assert "Secret1234567890" not in out and "abcdef123456" not in out
    assert "ghs_abcdefghijklmnop12345" not in out and "hunter2" not in out


def test_explicit_secrets_of_any_shape_are_masked() -> None:
    assert "plain-looking-secret" not in redact("echo plain-looking-secret here", "plain-looking-secret")


def test_ordinary_text_is_left_alone() -> None:
    text = "The model `gpt-4o` does not exist or you do not have access to it."
    assert redact(text) == text


def test_mask_key() -> None:
    assert mask_key("sk-abcdefghijklmnop1234") == "sk-a****1234"
    assert mask_key("short") == "****"


ECHOED = "canaryECHOEDvalue-4f1e2d3c"  # no credential shape: only the field's name gives it away
CREDENTIAL_FIELDS = (
    "refresh_token",
    "access_token",
    "id_token",
    "client_secret",
    "code",
    "code_verifier",
    "device_code",
    "api_key",
    "token",
    "password",
)


@pytest.mark.parametrize("field", CREDENTIAL_FIELDS)
def test_credential_fields_are_masked_in_json_and_form_bodies(field: str) -> None:
    """SECURITY.md S30, B44: an auth server's error that echoes the request it refused."""
    for text in (
        f'{{"{field}": "{ECHOED}", "grant_type": "refresh_token"}}',  # JSON
        f'{{"{field}":"{ECHOED}"}}',
        f"{{'{field}': '{ECHOED}'}}",  # a Python repr in a log line
        f'{{"error": "bad request: {{\\"{field}\\": \\"{ECHOED}\\"}}"}}',  # JSON inside a JSON string
        f"grant_type=authorization_code&{field}={ECHOED}&client_id=app",  # a form body
        f"https://auth.example/oauth/token?{field}={ECHOED}",
    ):
        out = redact(text)
        assert ECHOED not in out and field in out, (text, out)


def test_a_json_value_is_masked_to_its_own_closing_quote() -> None:
    assert redact('{"password": "it\'s mine", "scope": "openid"}') == '{"password": "****", "scope": "openid"}'
    assert redact('{"prompt_tokens": 5, "max_tokens": 9}') == '{"prompt_tokens": 5, "max_tokens": 9}'


def test_a_settings_value_in_the_audit_log_keeps_no_credential() -> None:
    assert audited_value("api_key", "plainvalue-without-a-shape") == "****"
    assert audited_value("update_key", "abc") == "****"
    assert audited_value("base_url", "https://ada:pw-plain-123@example.com/v1?key=plain-query-key") == (
        "https://****@example.com/v1?key=****"
    )
    assert audited_value("headers", {"X-Custom-Auth": "plain-header-value", "X-Title": "mine"}) == {
        "X-Custom-Auth": "****",
        "X-Title": "****",
    }
    assert audited_value("fast", ["openai/gpt-4o", "groq/llama"]) == ["openai/gpt-4o", "groq/llama"]
    assert audited_value("require_keys", True) is True and audited_value("port", 11488) == 11488
    assert audited_value("theme", None) is None and audited_value("log_level", "debug") == "debug"
