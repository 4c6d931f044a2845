"""The Vonage provider against a local SMS API that sends (optionally signed) receipts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from peers.otpgate import StartOtpgate
from peers.vonage import API_KEY, API_SECRET, SIGNATURE_SECRET, FakeVonage, sign

from otpgate.delivery.senders.vonage import vonage_signature


@pytest.fixture
def vonage() -> Iterator[FakeVonage]:
    peer = FakeVonage(signature_secret=SIGNATURE_SECRET, signature_method="sha256").start()
    yield peer
    peer.stop()


def vonage_settings(vonage: FakeVonage, **more: object) -> dict[str, object]:
    return {
        "sms_provider": "vonage",
        "vonage_api_key": API_KEY,
        "vonage_api_secret": API_SECRET,
        "vonage_signature_secret": SIGNATURE_SECRET,
        "vonage_signature_method": "sha256",
        "vonage_base_url": vonage.url,
        **more,
    }


@pytest.mark.parametrize("method", ["md5hash", "md5", "sha1", "sha256", "sha512"])
def test_our_signature_check_agrees_with_the_peer(method: str) -> None:
    params = {"messageId": "0A0000001", "status": "delivered", "text": "a&b=c", "timestamp": "1"}
    assert vonage_signature(params, "s3cret", method) == sign(params, "s3cret", method)


def test_sms_is_sent_and_the_signed_receipt_marks_it_delivered(
    start_otpgate: StartOtpgate, vonage: FakeVonage
) -> None:
    otpgate = start_otpgate(**vonage_settings(vonage))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120123", sender="ACME")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    [sent] = vonage.accepted
    assert sent["to"] == "447123120123" and sent["from"] == "ACME" and sent["type"] == "text"
    [message] = otpgate.messages(app, started["id"])
    assert sent["client-ref"] == message["id"]
    assert message["provider_message_id"] == sent["message-ids"]


def test_unicode_text_goes_as_unicode_and_a_long_text_in_parts(
    start_otpgate: StartOtpgate, vonage: FakeVonage
) -> None:
    otpgate = start_otpgate(**vonage_settings(vonage))
    app = otpgate.create_app({"template": "您的验证码是 {code}。" + "请勿将验证码告诉任何人。" * 6})
    started = otpgate.start_verification(app, "+447123120124")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    assert vonage.accepted[0]["type"] == "unicode"
    assert len(vonage.accepted[0]["message-ids"].split(",")) == 2


def test_a_failed_receipt_marks_the_message_undelivered(
    start_otpgate: StartOtpgate, vonage: FakeVonage
) -> None:
    otpgate = start_otpgate(**vonage_settings(vonage))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120000")

    otpgate.wait_for_delivery(app, started["id"], "undelivered")

    [message] = otpgate.messages(app, started["id"])
    assert message["last_error"] == "vonage failed 6"


def test_invalid_parameters_make_the_verification_undeliverable(
    start_otpgate: StartOtpgate, vonage: FakeVonage
) -> None:
    otpgate = start_otpgate(**vonage_settings(vonage))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120400")

    found = otpgate.wait_for_delivery(app, started["id"], "failed")

    assert found["status"] == "undeliverable"
    assert otpgate.messages(app, started["id"])[0]["last_error"] == "vonage status 3"


def test_throttling_is_retried_then_delivered(
    start_otpgate: StartOtpgate, vonage: FakeVonage
) -> None:
    otpgate = start_otpgate(**vonage_settings(vonage))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120503")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    assert otpgate.messages(app, started["id"])[0]["attempts"] == vonage.fail_times + 1


def test_unsigned_or_forged_receipts_are_refused_when_a_secret_is_set(
    start_otpgate: StartOtpgate, vonage: FakeVonage
) -> None:
    otpgate = start_otpgate(**vonage_settings(vonage))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120123")
    otpgate.wait_for_delivery(app, started["id"], "delivered")
    message = otpgate.messages(app, started["id"])[0]
    params = {"messageId": "X", "status": "failed", "client-ref": message["id"], "timestamp": "1"}

    unsigned = otpgate.http.get("/v1/receipts/vonage", params=params)
    stale = otpgate.http.get(
        "/v1/receipts/vonage",
        params={**params, "sig": sign(params, SIGNATURE_SECRET, "sha256")},
    )
    wrong = otpgate.http.get(
        "/v1/receipts/vonage", params={**params, "sig": sign(params, "other", "sha256")}
    )

    assert [unsigned.status_code, stale.status_code, wrong.status_code] == [403] * 3
    assert otpgate.verification(app, started["id"])["delivery_status"] == "delivered"
