"""The README's one-minute walk-through, against a real `otpgate serve` process."""

from __future__ import annotations

import re
import time

import pytest
from support.outbox import code_in, wrong_code
from support.served import ServedOtpgate

pytestmark = pytest.mark.e2e


def test_create_read_the_code_from_the_outbox_and_check(otpgate: ServedOtpgate) -> None:
    key = otpgate.first_start["api_key"] if otpgate.first_start else None
    assert key, "the first start prints the default app's key"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    # 1. start a verification
    created = otpgate.http.post(
        "/v1/verifications", content=b'{"to": "+447123123456"}', headers=headers
    )
    answered = time.monotonic()
    assert created.status_code == 201, created.text
    verification = created.json()
    assert (verification["to"], verification["status"], verification["line_type"]) == (
        "+447123123456",
        "pending",
        "mobile",
    )
    assert verification["attempts"] == 0

    # 2. read the code (+ is %2B in a URL); it is there within a second of the 201
    while True:
        outbox = otpgate.http.get(
            "/v1/dev/outbox?to=%2B447123123456&limit=1", headers=headers
        ).json()
        if outbox["messages"]:
            break
        assert time.monotonic() - answered < 1.0, "no outbox message within 1 s of the 201"
        time.sleep(0.005)
    message = outbox["messages"][0]
    assert re.fullmatch(r"Your default verification code is [0-9]{6}", message["body"])
    code = code_in(message["body"])

    # a wrong code answers valid: false with the attempts left
    wrong = otpgate.http.post(
        f"/v1/verifications/{verification['id']}/check",
        content=f'{{"code": "{wrong_code(code)}"}}'.encode(),
        headers=headers,
    )
    assert wrong.json() == {
        "id": verification["id"],
        "status": "pending",
        "valid": False,
        "attempts_left": 4,
    }

    # 3. check the code the person typed
    checked = otpgate.http.post(
        f"/v1/verifications/{verification['id']}/check",
        content=f'{{"code": "{code}"}}'.encode(),
        headers=headers,
    )
    assert checked.json() == {
        "id": verification["id"],
        "status": "approved",
        "valid": True,
        "attempts_left": 3,
    }


def test_the_api_is_described_at_docs_and_openapi_json(otpgate: ServedOtpgate) -> None:
    assert otpgate.http.get("/docs").status_code == 200
    assert "/v1/verifications" in otpgate.http.get("/openapi.json").json()["paths"]
    assert otpgate.http.get("/readyz").json() == {"status": "ready"}
