"""The pieces of signing in that need no server: PKCE and state, JWT claims, the one-time
state check, and the logins other tools keep on disk."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from fakes.transport import CannedResponse, FakeTransport

from gateway.auth.oauth.chatgpt_login import ChatGPTLogin, LoginRejected
from gateway.auth.oauth.claims import chatgpt_identity, expires_at
from gateway.auth.oauth.logins_on_disk import (
    ImportProblem,
    codex_auth_file,
    codex_keyring_account,
    copilot_config_dir,
    read_codex_login,
    read_editor_login,
    write_back_to,
)
from gateway.auth.oauth.openai import OpenAIAuth
from gateway.auth.oauth.pkce import Pkce, new_state
from gateway.errors import Fix
from gateway.providers.settings import SubscriptionSettings
from gateway.transport import UpstreamRequest


def _jwt(payload: Mapping[str, object]) -> str:
    part = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"e30.{part}.c2ln"


def test_pkce_is_s256_of_a_fresh_verifier_and_state_is_256_bits() -> None:
    a, b = Pkce.new(), Pkce.new()
    assert a.verifier != b.verifier and 43 <= len(a.verifier) <= 128
    digest = base64.urlsafe_b64encode(hashlib.sha256(a.verifier.encode()).digest()).rstrip(b"=").decode()
    assert a.challenge == digest and a.verifier not in repr(a)
    assert len(new_state()) == 43 and new_state() != new_state()


def test_chatgpt_identity_from_the_id_token_with_fallbacks() -> None:
    auth = {"https://api.openai.com/auth": {"chatgpt_account_id": "acct_1", "chatgpt_plan_type": "team"}}
    who = chatgpt_identity(_jwt({"email": "a@b.c", **auth}))
    assert (who.account_id, who.plan, who.email) == ("acct_1", "team", "a@b.c")
    who = chatgpt_identity(_jwt({"https://api.openai.com/profile": {"email": "p@b.c"}}), _jwt(auth), None)
    assert (who.account_id, who.email) == ("acct_1", "p@b.c")
    assert chatgpt_identity("not-a-jwt", "", "acct_file").account_id == "acct_file"
    assert expires_at(_jwt({"exp": 123})) == 123 and expires_at("x.y") is None


async def _nothing_is_sent(request: UpstreamRequest) -> CannedResponse:
    raise AssertionError(f"no request was expected: {request.url}")


def _login(port: int | None) -> ChatGPTLogin:
    """A sign-in whose address and callbacks are read; it never reaches the token endpoint."""
    return ChatGPTLogin(OpenAIAuth(SubscriptionSettings(), FakeTransport(_nothing_is_sent)), port)


def test_the_callback_state_is_checked_once() -> None:
    login = _login(1455)
    state = dict(p.split("=") for p in login.url.split("?")[1].split("&"))["state"]
    with pytest.raises(LoginRejected, match="state mismatch"):
        login.code_from({"code": "c", "state": "forged"})
    with pytest.raises(LoginRejected, match="state mismatch"):
        login.code_from({"code": "c"})
    assert login.code_from_url(f"http://localhost:1455/auth/callback?code=abc&state={state}") == "abc"
    with pytest.raises(LoginRejected, match="already"):
        login.code_from({"code": "abc", "state": state})
    refused = _login(None)
    refused_state = dict(p.split("=") for p in refused.url.split("?")[1].split("&"))["state"]
    assert refused.redirect == "http://localhost:1455/auth/callback"
    with pytest.raises(LoginRejected, match="access_denied"):
        refused.code_from({"error": "access_denied", "state": refused_state})


def test_a_refusing_callback_repeats_only_its_error_code() -> None:
    """SECURITY.md S30: the callback's address is outside text; only a machine-word code is said."""
    canary = "canaryCALLBACKtext-9a8b7c"
    for error, said in (("access_denied", "(access_denied)"), (f"denied {canary}", "(an unreadable error code)")):
        login = _login(1455)
        state = dict(p.split("=") for p in login.url.split("?")[1].split("&"))["state"]
        with pytest.raises(LoginRejected) as refused:
            login.code_from({"error": error, "error_description": canary, "state": state})
        assert said in refused.value.message and canary not in refused.value.message


def test_codex_login_file(tmp_path: Path) -> None:
    assert codex_auth_file({}, tmp_path) == tmp_path / ".codex" / "auth.json"
    assert codex_auth_file({"CODEX_HOME": str(tmp_path / "c")}, tmp_path) == tmp_path / "c" / "auth.json"
    path = tmp_path / "auth.json"
    with pytest.raises(ImportProblem, match="No Codex login was found on this computer") as missing:
        read_codex_login(path, lambda service, name: None)
    assert missing.value.fix == Fix("sign_in_chatgpt") and "does not exist" in missing.value.detail
    path.write_text("{not json")
    with pytest.raises(ImportProblem, match="cannot be read: it is not JSON"):
        read_codex_login(path)
    path.write_text(json.dumps({"OPENAI_API_KEY": "sk-x", "tokens": None}))
    with pytest.raises(ImportProblem, match="API key"):
        read_codex_login(path)
    path.write_text(
        json.dumps({"tokens": {"id_token": "i", "access_token": "a", "refresh_token": "r", "account_id": "acct"}})
    )
    login = read_codex_login(path)
    assert (login.tokens.access_token, login.account_id) == ("a", "acct")


def test_codex_login_kept_in_the_system_keyring(tmp_path: Path) -> None:
    """cli_auth_credentials_store = "keyring": no auth.json, the same JSON under Codex's entry."""
    home = tmp_path / "codex"
    home.mkdir()
    account = "cli|" + hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:16]
    assert codex_keyring_account(home) == account
    entries = {
        ("Codex Auth", account): json.dumps(
            {"tokens": {"access_token": "a", "refresh_token": "r", "account_id": "acct"}}
        )
    }
    login = read_codex_login(home / "auth.json", lambda service, name: entries.get((service, name)))
    assert login.in_keyring and (login.tokens.refresh_token, login.account_id) == ("r", "acct")
    with pytest.raises(ImportProblem, match="reads but never writes"):
        write_back_to(login, sync=True)
    assert write_back_to(login, sync=False) is None
    with pytest.raises(ImportProblem, match="No Codex login was found"):
        read_codex_login(tmp_path / "other" / "auth.json", lambda service, name: entries.get((service, name)))
    entries[("Codex Auth", account)] = json.dumps({"OPENAI_API_KEY": "sk-x"})
    with pytest.raises(ImportProblem, match=r"system keyring's Codex login .* API key"):
        read_codex_login(home / "auth.json", lambda service, name: entries.get((service, name)))
    (home / "auth.json").write_text(json.dumps({"tokens": {"access_token": "fa", "refresh_token": "fr"}}))
    from_file = read_codex_login(home / "auth.json", lambda service, name: entries.get((service, name)))
    assert (
        not from_file.in_keyring and write_back_to(from_file, sync=True) == home / "auth.json"
    )  # the file comes first


def test_editor_logins_in_order_and_per_os(tmp_path: Path) -> None:
    assert copilot_config_dir({}, tmp_path, False) == tmp_path / ".config" / "github-copilot"
    assert copilot_config_dir({"XDG_CONFIG_HOME": "/x"}, tmp_path, False) == Path("/x/github-copilot")
    assert (
        copilot_config_dir({"LOCALAPPDATA": str(tmp_path / "L")}, tmp_path, True) == tmp_path / "L" / "github-copilot"
    )
    folder = tmp_path / "gc"
    folder.mkdir()
    (folder / "hosts.json").write_text(json.dumps({"github.com": {"user": "old", "oauth_token": "gho_old"}}))
    assert read_editor_login({}, folder).token == "gho_old"
    (folder / "apps.json").write_text(
        json.dumps(
            {
                "ghe.example.com:Iv1.x": {"oauth_token": "ghu_ghe"},
                "github.com:Iv1.b507a08c87ecfe98": {"user": "new", "oauth_token": "ghu_new"},
            }
        )
    )
    found = read_editor_login({}, folder)
    assert (found.token, found.user) == ("ghu_new", "new")
    assert read_editor_login({}, folder, host="ghe.example.com").token == "ghu_ghe"
    assert read_editor_login({"GH_COPILOT_TOKEN": "ghu_env"}, folder).source == "GH_COPILOT_TOKEN"
    with pytest.raises(ImportProblem) as missing:
        read_editor_login({}, tmp_path / "none", host="ghe.example.com")
    # Words a window shows as they are (no variable, command or flag), the fix offered as a button,
    # and where it looked kept as the detail.
    assert str(missing.value) == "No GitHub Copilot login for ghe.example.com was found on this computer."
    assert missing.value.fix == Fix("sign_in_copilot", "ghe.example.com")
    assert missing.value.detail.startswith("looked at GH_COPILOT_TOKEN, ")
    assert str(tmp_path / "none" / "apps.json") in missing.value.detail
