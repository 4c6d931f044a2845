"""A prefix the SMS-pumping guard has blocked, as each vendor's client reads the refusal."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.dotdigital import the_one_failure
from support.idresponse import IdResponse, assert_envelope
from support.ninety_nine import NinetyNine
from support.vendor_apps import SESSIONM_SETTINGS, MakeVendorApp, VendorApp

BLOCKED_PREFIX = "+44790"
_serial = itertools.count(1)


def in_blocked_prefix() -> str:
    return f"{BLOCKED_PREFIX}{next(_serial):07d}"


@pytest.fixture
def blocked_app(vendor_app: MakeVendorApp, clock: Any) -> VendorApp:
    """An app whose guard has blocked +44790…: codes sent there a second apart, none entered."""
    app = vendor_app(**SESSIONM_SETTINGS, fraud_min_sends=5, sends_per_app_minute=100_000)
    for _ in range(40):
        answer = app.native.start(to=in_blocked_prefix())
        if answer.status_code == 403:
            assert answer.json()["code"] == "fraud_blocked"
            return app
        assert answer.status_code == 201, answer.text
        clock.advance(1)
    raise AssertionError("the guard never blocked the prefix")


def test_sessionm_answers_a_bad_request_with_retry_after(
    client: TestClient, blocked_app: VendorApp
) -> None:
    path = f"/priv/v1/apps/{blocked_app.key_id}/messaging_events/sms/validation/request"
    body = {"external_id": "cust-1", "to_phone_number": in_blocked_prefix()}
    answer = client.post(path, json=body, auth=blocked_app.basic)
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "Bad Request",
        "message": "sends to this number are blocked for now",
    }
    assert int(answer.headers["retry-after"]) > 0


def test_dotdigital_answers_throttled(client: TestClient, blocked_app: VendorApp) -> None:
    body = {"to": in_blocked_prefix().lstrip("+"), "from": "Test"}
    answer = client.post("/webapi/verify", json=body, auth=blocked_app.basic)
    failure = the_one_failure(answer)
    assert (failure["property"], failure["failureCode"]) == ("to", "Throttled")
    assert int(answer.headers["retry-after"]) > 0


def test_ninety_nine_digital_answers_reason_5(client: TestClient, blocked_app: VendorApp) -> None:
    vendor = NinetyNine(client, f"{blocked_app.key_id}.{blocked_app.secret}")
    answer = vendor.send(in_blocked_prefix())
    assert (answer["status"], answer["reason"], answer["unique"]) == ("FAIL", 5, "")


def test_idresponse_answers_failed_to_send(client: TestClient, blocked_app: VendorApp) -> None:
    vendor = IdResponse(client, blocked_app.key_id, blocked_app.secret)
    answer = vendor.gateway(in_blocked_prefix())
    assert_envelope(answer, "FAIL", "FAILED TO SEND TO NUMBER")
