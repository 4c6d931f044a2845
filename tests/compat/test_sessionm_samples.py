"""SessionM's printed request objects, sent verbatim (typographic quotes included) to a real
`otpgate serve`, each answer held to the printed answer's shape."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from compat import samples
from support.outbox import read_code
from support.served import ServedOtpgate
from support.vendor_apps import SESSIONM_SETTINGS, MakeVendorApp, VendorApp

pytestmark = pytest.mark.e2e

SAMPLE_NUMBER = "+13139711649"
ALPHANUMERIC = {**SESSIONM_SETTINGS, "code_alphabet": "alphanumeric", "code_length": 10}


def post(served: ServedOtpgate, app: VendorApp, route: str, body: str) -> httpx.Response:
    return served.http.post(
        f"/priv/v1/apps/{app.key_id}/messaging_events/sms/validation/{route}",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
        auth=app.basic,
    )


def test_the_printed_request_object_is_sent_with_its_message_text_as_prefix(
    served: ServedOtpgate, served_app: MakeVendorApp
) -> None:
    app = served_app(**ALPHANUMERIC)
    answer = post(served, app, "request", samples.SESSIONM_REQUEST_BODY)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    code = read_code(served.http, app.native.headers, SAMPLE_NUMBER)
    messages = app.native.outbox(to=SAMPLE_NUMBER).json()["messages"]
    assert messages[0]["body"] == "Some message text prefixing validation code in sms: " + code
    # the app uses alphanumeric codes, like the vendor's example 383ue73733eee
    assert re.fullmatch(r"[0-9a-z]{10}", code)


def test_the_printed_confirmation_object_gets_the_printed_error_shape_then_ok_with_the_code(
    served: ServedOtpgate, served_app: MakeVendorApp
) -> None:
    app = served_app(**ALPHANUMERIC)
    assert post(served, app, "request", samples.SESSIONM_REQUEST_BODY).status_code == 200
    wrong = post(served, app, "confirmation", samples.SESSIONM_CONFIRMATION_BODY)
    assert wrong.status_code == 400
    expected = json.loads(samples.SESSIONM_ERROR_ANSWER)
    assert set(wrong.json()) == set(expected)
    assert wrong.json() == {"status": expected["status"], "message": "Invalid validation code"}

    code = read_code(served.http, app.native.headers, SAMPLE_NUMBER)
    body = samples.SESSIONM_CONFIRMATION_BODY.replace("383ue73733eee", code)
    right = post(served, app, "confirmation", body)
    assert right.status_code == 200
    assert right.json() == {"status": "ok"}

    opt_ins = app.native.http.get(
        "/v1/opt-ins", params={"external_id": "twiliofeb211"}, headers=app.native.headers
    )
    [opt_in] = opt_ins.json()["opt_ins"]
    assert opt_in["to"] == SAMPLE_NUMBER
    assert opt_in["source"] == "sessionm"


def test_the_printed_request_object_is_refused_without_the_global_campaign(
    served: ServedOtpgate, served_app: MakeVendorApp
) -> None:
    app = served_app()
    answer = post(served, app, "request", samples.SESSIONM_REQUEST_BODY)
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "Bad Request",
        "message": "no global SMS campaign with opt-in keyword YES",
    }
    assert app.native.outbox(to=SAMPLE_NUMBER).json()["messages"] == []
