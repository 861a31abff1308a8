"""What the windows compute from the status: health, notifications said once, meters, snippets."""

from __future__ import annotations

from status_documents import (
    NOW,
    access,
    account,
    client_key,
    failing_model,
    key_status,
    provider_status,
    quota_reading,
    status_document,
)

from app.viewmodels.alerts import Alerts
from app.viewmodels.durations import span
from app.viewmodels.health import DEGRADED, PAUSED, SERVING, STOPPED, health_of
from app.viewmodels.meters import meters
from app.viewmodels.snippets import KEY_PLACEHOLDER, snippets
from gateway import QuotaReading, StatusDocument

URL = "http://127.0.0.1:11488"


def _window(used: float, resets_in: float = 3600) -> QuotaReading:
    return quota_reading("codex:ada", "primary", used, resets_at=NOW + resets_in)


def _quota(*windows: QuotaReading) -> StatusDocument:
    return status_document(quota=windows)


def test_health_names_every_problem() -> None:
    status = status_document(
        providers=[
            provider_status(
                "groq",
                "Groq",
                breaker="open",
                keys=[key_status("groq#1", benched={"reason": "quota", "seconds_left": 7300})],
            )
        ],
        accounts=[account("a1", "copilot:octocat", state="needs_sign_in")],
        failing=[failing_model("gpt-5", "every key is out of quota")],
        access=access(anchor_problem="its last line was removed", ledger_write_failures=2),
    )
    health = health_of(status, running=True, paused=False)
    assert health.state == DEGRADED and health.summary == "Serving, 5 problems"
    assert health.problems == (
        "Groq — Resting after errors",  # in the Providers page's words (test_provider_states)
        "copilot:octocat needs sign-in",
        "every route for gpt-5 failed: every key is out of quota",
        "audit log: its last line was removed",
        "2 usage record(s) could not be written",
    )
    healthy = status_document(
        providers=[provider_status("groq", "Groq", keys=[key_status("groq#1")])],
        accounts=[account("a1", "copilot:octocat")],
        access=access(),
    )
    assert health_of(healthy, running=True, paused=False).state == SERVING
    assert health_of(None, running=True, paused=False).state == SERVING  # started, no status yet
    assert health_of(None, running=False, paused=True).state == PAUSED
    stopped = health_of(None, running=False, paused=False, error="port 11488 is already in use")
    assert stopped.state == STOPPED and "already in use" in stopped.summary


def test_spans_read_as_people_say_them() -> None:
    assert [span(s) for s in (5, 119, 600, 7260, 200000)] == ["5 s", "119 s", "10 min", "2 h 1 min", "2 d 7 h"]


def test_each_notice_is_said_once_and_again_after_it_cleared() -> None:
    alerts = Alerts()
    bad = status_document(accounts=[account("a1", "copilot:octocat", state="needs_sign_in")])
    first = alerts.notices(bad)
    assert len(first) == 1 and "needs sign-in" in first[0].text and first[0].urgent
    assert alerts.notices(bad) == []
    assert alerts.notices(status_document(accounts=[account("a1", "copilot:octocat")])) == []
    assert len(alerts.notices(bad)) == 1  # it came back


def test_quota_notices_at_80_and_95_once_per_window_reset() -> None:
    alerts = Alerts()
    assert alerts.notices(_quota(_window(50))) == []
    eighty = alerts.notices(_quota(_window(81)))
    assert [n.title for n in eighty] == ["Switchboard: ChatGPT · ada at 81 %"] and not eighty[0].urgent
    assert "resets in 60 min" in eighty[0].text
    assert alerts.notices(_quota(_window(85))) == []
    ninety_five = alerts.notices(_quota(_window(97)))
    assert len(ninety_five) == 1 and ninety_five[0].urgent
    assert alerts.notices(_quota(_window(99))) == []
    assert len(alerts.notices(_quota(_window(96, resets_in=7200)))) == 1  # a new window
    assert alerts.notices(_quota({**_window(99), "unlimited": True})) == []
    failing = status_document(failing=[failing_model("gpt-5", "every key is out of quota")])
    assert [n.title for n in alerts.notices(failing)] == ["Switchboard: gpt-5 is failing"]
    assert alerts.notices(failing) == []


def test_meters_for_windows_and_client_keys() -> None:
    status = status_document(
        quota=[
            _window(42.0),
            quota_reading("copilot:octocat", "chat", 0.0, unlimited=True),
            quota_reading("copilot:octocat", "premium_interactions", 30.0, entitlement=300.0, remaining=210.0),
            quota_reading("copilot:octocat", "credits", 90.0, entitlement=50.0, remaining=4.5),
        ],
        access=access(
            [
                client_key(
                    "k1",
                    "laptop",
                    {"requests_per_minute": {"used": 15, "limit": 60}, "tokens_per_day": {"used": 5, "limit": None}},
                )
            ]
        ),
    )
    found = meters(status)
    assert [m.title for m in found] == [
        "ChatGPT · ada — 5-hour window",
        "GitHub Copilot · octocat — chat",
        "GitHub Copilot · octocat — premium requests",
        "GitHub Copilot · octocat — credits",
        "Client key laptop — requests per minute",
    ]
    assert found[0].used_percent == 42.0 and found[0].text == "42 % used" and found[0].detail == "Resets in 60 min"
    assert found[1].used_percent is None and found[1].text == "unlimited"
    assert found[2].text == "30 % used (210 of 300 left)"  # the gateway's amounts are floats: whole ones shown whole
    assert found[3].text == "90 % used (4.5 of 50 left)"
    assert found[4].used_percent == 25.0 and found[4].text == "15 of 60"
    assert meters(None) == []  # no status yet


def test_snippets_carry_the_live_address_and_a_key_only_when_needed() -> None:
    open_ = {s.tool: s.text for s in snippets(URL)}
    assert set(open_) == {
        "VS Code Copilot Chat",
        "Claude Code",
        "Codex CLI",
        "Continue",
        "OpenCode",
        "Cursor",
        "OpenAI SDK (Python)",
        "Anthropic SDK (Python)",
        "curl",
    }
    assert open_["Cursor"] == ""  # it calls from its own servers: no snippet that cannot work
    assert all(URL in text for tool, text in open_.items() if tool != "Cursor")
    assert f"ANTHROPIC_BASE_URL={URL}" in open_["Claude Code"]
    assert "ANTHROPIC_DEFAULT_HAIKU_MODEL=auto" in open_["Claude Code"]  # every slot names a model
    assert "CLAUDE_CODE_SUBAGENT_MODEL=auto" in open_["Claude Code"]
    assert f'base_url = "{URL}/v1"' in open_["Codex CLI"] and 'wire_api = "responses"' in open_["Codex CLI"]
    assert "Authorization" not in open_["curl"] and KEY_PLACEHOLDER not in "".join(open_.values())
    keyed = {s.tool: s.text for s in snippets(URL, KEY_PLACEHOLDER)}
    assert (
        f"Bearer {KEY_PLACEHOLDER}" in keyed["curl"]
        and f'experimental_bearer_token = "{KEY_PLACEHOLDER}"' in keyed["Codex CLI"]
    )
