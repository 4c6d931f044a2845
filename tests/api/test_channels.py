"""Channels and workflows through the native API: what a start may ask for, what the app
allows, and how the verification, its messages and the developer outbox show them."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from support.native import NativeApi
from support.numbers import new_mobile
from support.outbox import wait_for_messages

ALL_CHANNELS = {"channels": ["sms", "call", "whatsapp"]}
PREMIUM_RATE_GB = "+449098765432"
SHARED_COST_FR = "+33884012345"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"channel": "call", "workflow": [{"channel": "sms"}]}, None),
        ({"workflow": []}, "workflow"),
        ({"workflow": [{"channel": "sms"}] * 4}, "workflow"),
        (
            {"workflow": [{"channel": "sms", "timeout_seconds": 14}]},
            "workflow.0.timeout_seconds",
        ),
        (
            {"workflow": [{"channel": "sms", "timeout_seconds": 901}]},
            "workflow.0.timeout_seconds",
        ),
        ({"workflow": [{"channel": "fax"}]}, "workflow.0.channel"),
        ({"channel": "email"}, "channel"),
    ],
)
def test_a_start_with_a_malformed_channel_or_workflow_is_refused(
    api_with: Callable[..., NativeApi], fields: dict[str, Any], field: str | None
) -> None:
    answer = api_with(**ALL_CHANNELS).start(**fields)
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_error")
    assert answer.json().get("field") == field


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"channel": "call"}, "channel"),
        ({"workflow": [{"channel": "sms"}, {"channel": "whatsapp"}]}, "workflow"),
    ],
)
def test_a_channel_the_app_does_not_allow_is_refused(
    api: NativeApi, fields: dict[str, Any], field: str
) -> None:
    answer = api.start(**fields)  # the default `channels` is ["sms"]
    assert (answer.status_code, answer.json()["code"]) == (400, "channel_not_allowed")
    assert answer.json()["field"] == field


def wait_until_delivered(api: NativeApi, verification_id: str) -> dict[str, Any]:
    """The verification once the worker handed its newest message to the outbox."""
    deadline = time.monotonic() + 5
    while True:
        read: dict[str, Any] = api.get(verification_id).json()
        if read["delivery_status"] == "delivered" or time.monotonic() > deadline:
            return read
        time.sleep(0.01)


def test_a_start_by_workflow_shows_each_step(api_with: Callable[..., NativeApi]) -> None:
    api = api_with(**ALL_CHANNELS)
    body = api.started(
        workflow=[{"channel": "whatsapp", "timeout_seconds": 60}, {"channel": "sms"}]
    )
    assert body["channel"] == "whatsapp"
    assert body["workflow"] == [
        {"channel": "whatsapp", "status": "sent", "sent_at": body["created_at"]},
        {"channel": "sms", "status": "waiting", "sent_at": None},
    ]
    [message] = wait_for_messages(api.http, api.headers, body["to"])
    assert message["channel"] == "whatsapp"
    read = wait_until_delivered(api, body["id"])
    assert [step["status"] for step in read["workflow"]] == ["delivered", "waiting"]


def test_the_apps_workflow_is_the_default_and_a_channel_overrides_it(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with(
        **ALL_CHANNELS, workflow=[{"channel": "call", "timeout_seconds": 30}, {"channel": "sms"}]
    )
    by_default = api.started()
    assert [step["channel"] for step in by_default["workflow"]] == ["call", "sms"]
    named = api.started(channel="whatsapp")
    assert [step["channel"] for step in named["workflow"]] == ["whatsapp"]


def test_next_sends_the_next_step_and_answers_409_once_none_is_left(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with(**ALL_CHANNELS)
    body = api.started(workflow=[{"channel": "whatsapp"}, {"channel": "sms"}])
    next_url = f"/v1/verifications/{body['id']}/next"
    sent = api.http.post(next_url, headers=api.headers)
    assert sent.status_code == 200
    assert (sent.json()["channel"], sent.json()["sends"]) == ("sms", 2)
    messages = wait_for_messages(api.http, api.headers, body["to"], 2)
    assert sorted(m["channel"] for m in messages) == ["sms", "whatsapp"]  # one clock moment
    again = api.http.post(next_url, headers=api.headers)
    assert (again.status_code, again.json()["code"]) == (409, "no_next_step")
    api.cancel(body["id"])
    ended = api.http.post(next_url, headers=api.headers)
    assert (ended.status_code, ended.json()["code"]) == (409, "not_pending")
    missing = api.http.post("/v1/verifications/ver_unknown/next", headers=api.headers)
    assert missing.status_code == 404


def test_a_call_speaks_the_code_digit_by_digit_twice_in_the_numbers_language(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with(**ALL_CHANNELS, webotp_domain="example.com")
    body = api.started(channel="call", to="+33612345678")
    [message] = wait_for_messages(api.http, api.headers, body["to"])
    assert message["channel"] == "call"
    spoken = re.fullmatch(
        r"(Votre code de vérification .+ : ((?:[0-9], ){5}[0-9])) \1", message["body"]
    )
    assert spoken, message["body"]  # no origin-bound line: nothing reads it aloud


def test_a_whatsapp_message_shows_its_text_in_the_outbox(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with(**ALL_CHANNELS)
    body = api.started(channel="whatsapp")
    [message] = wait_for_messages(api.http, api.headers, body["to"])
    assert message["channel"] == "whatsapp"
    assert re.fullmatch(r"Your app-[0-9]+ verification code is [0-9]{6}", message["body"])


def test_the_messages_of_a_verification_show_their_channel_and_delivery_time(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with(**ALL_CHANNELS)
    body = api.started(channel="call")
    wait_until_delivered(api, body["id"])
    answer = api.http.get(f"/v1/verifications/{body['id']}/messages", headers=api.headers)
    [message] = answer.json()["messages"]
    assert (message["channel"], message["status"]) == ("call", "delivered")
    assert message["delivered_at"] is not None and message["delivered_at"].endswith("Z")
    assert (message["encoding"], message["segments"]) == (None, None)  # no SMS to count


@pytest.mark.parametrize("to", [PREMIUM_RATE_GB, SHARED_COST_FR])
def test_calls_to_premium_rate_and_shared_cost_numbers_are_refused_unless_allowed(
    api_with: Callable[..., NativeApi], to: str
) -> None:
    refused = api_with(**ALL_CHANNELS).start(channel="call", to=to)
    assert (refused.status_code, refused.json()["code"]) == (400, "line_type_blocked")
    assert api_with(**ALL_CHANNELS).start(channel="sms", to=to).status_code == 201
    allowed = api_with(**ALL_CHANNELS, allow_premium_rate_calls=True).start(channel="call", to=to)
    assert allowed.status_code == 201


def test_a_test_number_gets_no_call_and_its_fixed_code_passes(
    api_with: Callable[..., NativeApi],
) -> None:
    to = new_mobile()
    api = api_with(**ALL_CHANNELS, test_numbers={to: "424242"})
    body = api.started(to=to, workflow=[{"channel": "call"}, {"channel": "sms"}])
    assert body["workflow"] == [
        {"channel": "call", "status": "delivered", "sent_at": body["created_at"]}
    ]
    assert api.outbox(to=to).json()["messages"] == []
    assert api.check(body["id"], "424242").json()["valid"] is True


@pytest.mark.parametrize(
    "changes",
    [
        {"channels": []},
        {"channels": ["fax"]},
        {"workflow": [{"channel": "sms", "timeout_seconds": 5}]},
        {"workflow": [{"channel": "sms", "retries": 2}]},
        {"workflow": []},
        {"allow_premium_rate_calls": "yes"},
    ],
)
def test_a_malformed_channel_setting_is_refused(
    client: Any, admin_headers: dict[str, str], changes: dict[str, Any]
) -> None:
    answer = client.post(
        "/v1/apps", json={"name": "bad", "settings": changes}, headers=admin_headers
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_error")
    assert answer.json()["field"].startswith(f"settings.{next(iter(changes))}")
