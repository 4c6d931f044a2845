"""The generic HTTP gateway provider against a local gateway that calls receipts back."""

from __future__ import annotations

import json

from peers.gateway import FakeGateway
from peers.otpgate import StartOtpgate, closed_port_url, wait_until

JSON_BODY = '{"to": "{to}", "from": "{sender}", "text": "{body}", "callback": "{receipt_url}"}'
RECEIPT_MAP = {"DELIVRD": "delivered", "UNDELIV": "undelivered"}


def gateway_settings(gateway: FakeGateway, **more: object) -> dict[str, object]:
    return {
        "sms_provider": "http",
        "http_url": gateway.url + "/sms",
        "http_body": JSON_BODY,
        "http_message_id_path": "messages.0.id",
        "http_status_map": RECEIPT_MAP,
        **more,
    }


def test_json_gateway_delivers_and_its_receipt_marks_the_message_delivered(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    otpgate = start_otpgate(**gateway_settings(gateway))
    app = otpgate.create_app({"template": 'Say "{code}" \\ to us'})
    started = otpgate.start_verification(app, "+447123120123", sender="ACME")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    [sent] = gateway.accepted
    assert sent["to"] == "+447123120123" and sent["from"] == "ACME"
    assert sent["text"].startswith('Say "') and sent["text"].endswith('" \\ to us')
    [message] = otpgate.messages(app, started["id"])
    assert message["status"] == "delivered"
    assert message["provider"] == "http"
    assert message["provider_message_id"] == sent["gateway_id"]
    assert message["attempts"] == 1 and message["sent_at"] is not None
    assert "body" not in message and "text" not in message


def test_kannel_style_get_with_dlr_url_follows_the_status_map(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    otpgate = start_otpgate(
        sms_provider="http",
        http_method="GET",
        http_url=gateway.url
        + "/cgi-bin/sendsms?username=otp&password=pw&to={to}&text={body}"
        + "&dlr-mask=31&dlr-url={receipt_url}%26status%3D%25d",
    )
    app = otpgate.create_app()
    delivered = otpgate.start_verification(app, "+447123120124")
    refused = otpgate.start_verification(app, "+447123120000")

    otpgate.wait_for_delivery(app, delivered["id"], "delivered")
    otpgate.wait_for_delivery(app, refused["id"], "undelivered")

    [message] = otpgate.messages(app, refused["id"])
    assert message["provider_message_id"] == message["id"]  # ours, echoed by the dlr-url
    assert message["last_error"] == "status 2"
    assert otpgate.verification(app, refused["id"])["status"] == "pending"


def test_form_body_is_url_encoded(start_otpgate: StartOtpgate, gateway: FakeGateway) -> None:
    otpgate = start_otpgate(
        sms_provider="http",
        http_url=gateway.url + "/sms",
        http_body_format="form",
        http_body="to={to}&text={body}&callback={receipt_url}",
    )
    app = otpgate.create_app({"template": "a&b=c {code}"})
    started = otpgate.start_verification(app, "+447123120125")
    wait_until(lambda: gateway.accepted, bool, 10, what="the gateway to get the message")
    assert gateway.accepted[0]["text"].startswith("a&b=c ")
    otpgate.wait_for_delivery(app, started["id"], "sent", "delivered")


def test_a_refused_destination_makes_the_verification_undeliverable(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    otpgate = start_otpgate(**gateway_settings(gateway))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120400")

    found = otpgate.wait_for_delivery(app, started["id"], "failed")

    assert found["status"] == "undeliverable"
    [message] = otpgate.messages(app, started["id"])
    assert message["last_error"] == "HTTP 400" and message["attempts"] == 1


def test_transient_errors_are_retried_then_delivered(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    otpgate = start_otpgate(**gateway_settings(gateway))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120503")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    [message] = otpgate.messages(app, started["id"])
    assert message["attempts"] == gateway.fail_times + 1
    assert len(gateway.accepted) == 1


def test_a_gateway_that_is_down_fails_over_to_the_next_provider(
    start_otpgate: StartOtpgate,
) -> None:
    otpgate = start_otpgate(sms_provider="http,outbox", http_url=closed_port_url() + "/sms")
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120126")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    [message] = otpgate.messages(app, started["id"])
    assert message["provider"] == "outbox" and message["attempts"] == 1


def test_receipts_need_the_token_when_one_is_set(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    token = "receipt-token-0123456789"
    otpgate = start_otpgate(**gateway_settings(gateway, http_receipt_token=token))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120127")
    otpgate.wait_for_delivery(app, started["id"], "delivered")
    assert "token=" + token in gateway.accepted[0]["callback"]

    forged = otpgate.http.post(
        "/v1/receipts/http",
        json={"id": gateway.accepted[0]["gateway_id"], "status": "UNDELIV"},
    )
    wrong = otpgate.http.post("/v1/receipts/http?token=nope-nope-nope-nope", json={})
    assert forged.status_code == 403 and wrong.status_code == 403
    assert otpgate.verification(app, started["id"])["delivery_status"] == "delivered"


def test_no_code_in_errors_or_message_listing(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    otpgate = start_otpgate(**gateway_settings(gateway))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120400")
    otpgate.wait_for_delivery(app, started["id"], "failed")
    text = gateway.seen[0].json["text"]
    listing = json.dumps(otpgate.messages(app, started["id"]))
    assert text not in listing and text.split()[-1] not in listing


def test_an_unknown_provider_has_no_receipt_route(start_otpgate: StartOtpgate) -> None:
    otpgate = start_otpgate()
    assert otpgate.http.post("/v1/receipts/twilio", data={"a": "b"}).status_code == 404
