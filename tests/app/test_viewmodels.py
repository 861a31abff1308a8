"""What the windows compute from the status: health, notifications said once, meters, snippets."""

from __future__ import annotations

from typing import Any

from app.viewmodels.alerts import Alerts
from app.viewmodels.health import DEGRADED, PAUSED, SERVING, STOPPED, health_of, span
from app.viewmodels.meters import meters
from app.viewmodels.snippets import KEY_PLACEHOLDER, snippets

URL = "http://127.0.0.1:11488"


def _window(used: float, resets_at: int = 1000) -> dict[str, Any]:
    return {
        "label": "codex:ada",
        "window": "primary",
        "used_percent": used,
        "unlimited": False,
        "entitlement": None,
        "remaining": None,
        "resets_at": resets_at,
        "resets_in": 3600,
        "exhausted_at": None,
    }


def test_health_names_every_problem() -> None:
    status = {
        "providers": [
            {
                "id": "groq",
                "name": "Groq",
                "breaker": {"state": "open"},
                "keys": [{"label": "groq#1", "benched": {"reason": "quota", "seconds_left": 7300}}],
            }
        ],
        "accounts": [{"id": "a1", "label": "copilot:octocat", "state": "needs_sign_in"}],
        "failing": [{"model": "gpt-5", "error": "every key is out of quota"}],
    }
    health = health_of(status, running=True, paused=False)
    assert health.state == DEGRADED and health.summary == "Serving, 4 problems"
    assert health.problems == (
        "Groq is failing; requests go elsewhere until it recovers",
        "Groq: groq#1 is benched (quota) for 2 h 1 min",
        "copilot:octocat needs sign-in",
        "every route for gpt-5 failed: every key is out of quota",
    )
    assert health_of({"providers": []}, running=True, paused=False).state == SERVING
    assert health_of(None, running=True, paused=False).state == SERVING  # started, no status yet
    assert health_of(None, running=False, paused=True).state == PAUSED
    stopped = health_of(None, running=False, paused=False, error="port 11488 is already in use")
    assert stopped.state == STOPPED and "already in use" in stopped.summary


def test_spans_read_as_people_say_them() -> None:
    assert [span(s) for s in (5, 119, 600, 7260, 200000)] == ["5 s", "119 s", "10 min", "2 h 1 min", "2 d 7 h"]


def test_each_notice_is_said_once_and_again_after_it_cleared() -> None:
    alerts = Alerts()
    bad = {"accounts": [{"id": "a1", "label": "copilot:octocat", "state": "needs_sign_in"}]}
    first = alerts.notices(bad)
    assert len(first) == 1 and "needs sign-in" in first[0].text and first[0].urgent
    assert alerts.notices(bad) == []
    assert alerts.notices({"accounts": [{"id": "a1", "label": "copilot:octocat", "state": "ok"}]}) == []
    assert len(alerts.notices(bad)) == 1  # it came back


def test_quota_notices_at_80_and_95_once_per_window_reset() -> None:
    alerts = Alerts()
    assert alerts.notices({"quota": [_window(50)]}) == []
    eighty = alerts.notices({"quota": [_window(81)]})
    assert [n.title for n in eighty] == ["Switchboard: codex:ada at 81 %"] and not eighty[0].urgent
    assert "resets in 60 min" in eighty[0].text
    assert alerts.notices({"quota": [_window(85)]}) == []
    ninety_five = alerts.notices({"quota": [_window(97)]})
    assert len(ninety_five) == 1 and ninety_five[0].urgent
    assert alerts.notices({"quota": [_window(99)]}) == []
    assert len(alerts.notices({"quota": [_window(96, resets_at=2000)]})) == 1  # a new window
    assert alerts.notices({"quota": [{**_window(99), "unlimited": True}]}) == []


def test_meters_for_windows_and_client_keys() -> None:
    status = {
        "quota": [
            _window(42.0),
            {**_window(0), "label": "copilot:octocat", "window": "chat", "unlimited": True},
            {
                **_window(30),
                "label": "copilot:octocat",
                "window": "premium_interactions",
                "entitlement": 300,
                "remaining": 210,
            },
        ],
        "access": {
            "keys": [
                {
                    "id": "k1",
                    "label": "laptop",
                    "usage": {
                        "requests_per_minute": {"used": 15, "limit": 60},
                        "tokens_per_day": {"used": 5, "limit": None},
                    },
                }
            ]
        },
    }
    found = meters(status)
    assert [m.title for m in found] == [
        "codex:ada — 5-hour window",
        "copilot:octocat — chat",
        "copilot:octocat — premium requests",
        "Client key laptop — requests per minute",
    ]
    assert found[0].used_percent == 42.0 and found[0].text == "42 % used" and found[0].detail == "Resets in 60 min"
    assert found[1].used_percent is None and found[1].text == "unlimited"
    assert found[2].text == "30 % used (210 of 300 left)"
    assert found[3].used_percent == 25.0 and found[3].text == "15 of 60"


def test_snippets_carry_the_live_address_and_a_key_only_when_needed() -> None:
    open_ = {s.tool: s.text for s in snippets(URL)}
    assert set(open_) == {
        "VS Code Copilot Chat",
        "Claude Code",
        "Codex CLI",
        "Continue",
        "Cursor",
        "OpenAI SDK (Python)",
        "Anthropic SDK (Python)",
        "curl",
    }
    assert all(URL in text for text in open_.values())
    assert f"ANTHROPIC_BASE_URL={URL}" in open_["Claude Code"]
    assert f'base_url = "{URL}/v1"' in open_["Codex CLI"] and 'wire_api = "responses"' in open_["Codex CLI"]
    assert "Authorization" not in open_["curl"] and KEY_PLACEHOLDER not in "".join(open_.values())
    keyed = {s.tool: s.text for s in snippets(URL, KEY_PLACEHOLDER)}
    assert f"Bearer {KEY_PLACEHOLDER}" in keyed["curl"] and 'env_key = "SWITCHBOARD_KEY"' in keyed["Codex CLI"]
