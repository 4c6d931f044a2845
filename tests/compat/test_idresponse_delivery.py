"""IDResponse through a real SMS provider: `otpgate serve` sends through a local HTTP gateway,
so PENDING means queued, the code arrives at the gateway, and a refused delivery turns the
continuation into a failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from peers.gateway import FakeGateway
from peers.otpgate import wait_until
from support.idresponse import IdResponse, assert_envelope
from support.outbox import code_in
from support.served import ServedOtpgate, serving

GATEWAY_BODY = '{"to": "{to}", "from": "{sender}", "text": "{body}"}'


@pytest.fixture
def served(tmp_path: Path, gateway: FakeGateway) -> Iterator[ServedOtpgate]:
    with serving(
        tmp_path,
        OTPGATE_SMS_PROVIDER="http",
        OTPGATE_HTTP_URL=gateway.url + "/sms",
        OTPGATE_HTTP_BODY=GATEWAY_BODY,
        OTPGATE_HTTP_RECEIPTS="false",  # receipts are not what it tests
        OTPGATE_DELIVERY_RETRY_BASE_SECONDS="0.05",
    ) as otpgate:
        yield otpgate


@pytest.fixture
def vendor(served: ServedOtpgate) -> IdResponse:
    assert served.first_start is not None
    key_id, secret = served.first_start["api_key"].split(".", 1)
    return IdResponse(served.http, key_id, secret)


def texts_to(gateway: FakeGateway, to: str) -> list[str]:
    return [message["text"] for message in gateway.accepted if message["to"] == to]


def test_the_code_reaches_the_provider_and_passes(vendor: IdResponse, gateway: FakeGateway) -> None:
    token = vendor.pending("2015106001", message="Hello {fn}, your one-time password is {pin}")
    [text] = wait_until(
        lambda: texts_to(gateway, "+12015106001"), bool, 10, what="the gateway to get the code"
    )
    code = code_in(text)
    assert text == f"Hello John, your one-time password is {code}"
    assert_envelope(vendor.continue_(token, code), "PASS", "ALL CHECKS PASSED")


def test_a_delivery_the_provider_refuses_fails_the_continuation(
    vendor: IdResponse, served: ServedOtpgate
) -> None:
    started = vendor.gateway("2015100400")  # the gateway refuses numbers ending 0400
    assert_envelope(started, "PENDING", "TRANSACTION REQUIRES FURTHER ATTENTION")
    token = started["continuations"]["outofband"]["template"]["token"]
    assert served.first_start is not None
    headers = {"Authorization": f"Bearer {served.first_start['api_key']}"}

    def status() -> Any:
        url = f"/v1/verifications/{started['meta']['confirmation']}"
        return served.http.get(url, headers=headers).json()["status"]

    wait_until(status, lambda found: found == "undeliverable", 10, what="the delivery to fail")
    body = vendor.continue_(token, "123456")
    assert_envelope(body, "FAIL", "FAILED OUT-OF-BAND CHECK")
    assert body["result"]["issues"] == ["CODE COULD NOT BE DELIVERED"]
