"""Signed status webhooks to an app's status_callback_url, retried and recorded."""

from __future__ import annotations

import hashlib
import hmac
import re

from peers.gateway import FakeGateway
from peers.otpgate import LiveOtpgate, StartOtpgate, wait_until
from peers.receiver import WebhookReceiver

GATEWAY_BODY = '{"to": "{to}", "text": "{body}", "callback": "{receipt_url}"}'


def signature_is_valid(secret: str, header: str, body: bytes) -> bool:
    """What a client does with nothing but the secret."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def start(start_otpgate: StartOtpgate, gateway: FakeGateway) -> LiveOtpgate:
    return start_otpgate(
        sms_provider="http",
        http_url=gateway.url + "/sms",
        http_body=GATEWAY_BODY,
        http_message_id_path="messages.0.id",
        http_status_map={"DELIVRD": "delivered", "UNDELIV": "undelivered"},
        webhook_retry_base_seconds=0.05,
    )


def test_every_change_is_posted_signed_with_the_apps_secret(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    receiver = WebhookReceiver().start()
    otpgate = start(start_otpgate, gateway)
    app = otpgate.create_app({"status_callback_url": receiver.url + "/hooks"})
    secret = otpgate.webhook_secret(app)
    started = otpgate.start_verification(app, "+447123120123")
    otpgate.wait_for_delivery(app, started["id"], "delivered")
    wait_until(
        receiver.events,
        lambda events: events and events[-1]["verification"]["delivery_status"] == "delivered",
        10,
        what="a webhook saying delivered",
    )
    code = re.findall(r"\d{6}", gateway.accepted[0]["text"])[-1]
    checked = otpgate.http.post(
        f"/v1/verifications/{started['id']}/check", json={"code": code}, headers=app.headers
    )
    assert checked.json()["valid"] is True

    events = wait_until(
        receiver.events,
        lambda events: events[-1]["verification"]["status"] == "approved",
        10,
        what="a webhook saying approved",
    )

    # one presenter: the webhook shows the verification exactly as the API answers it
    shown = otpgate.http.get(f"/v1/verifications/{started['id']}", headers=app.headers).json()
    assert events[-1]["verification"] == shown
    assert events[0]["verification"]["status"] == "pending"
    assert events[0]["verification"]["delivery_status"] == "queued"
    assert events[0]["verification"]["locale"] == "en"  # as the native API shows it
    assert all(event["type"] == "verification.updated" for event in events)
    assert all(event["verification"]["id"] == started["id"] for event in events)
    assert len({event["id"] for event in events}) == len(events)
    for seen in receiver.seen:
        assert seen.path == "/hooks"
        assert signature_is_valid(secret, seen.headers["otpgate-signature"], seen.body)
        assert not signature_is_valid(
            "another-secret", seen.headers["otpgate-signature"], seen.body
        )
        assert code.encode() not in seen.body
    receiver.stop()


def test_a_failing_endpoint_is_retried_and_each_attempt_recorded(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    receiver = WebhookReceiver(fail_times=2).start()
    otpgate = start(start_otpgate, gateway)
    app = otpgate.create_app({"status_callback_url": receiver.url})
    started = otpgate.start_verification(app, "+447123120124")
    otpgate.wait_for_delivery(app, started["id"], "delivered")

    def recorded() -> list[dict[str, object]]:
        return otpgate.runtime.webhooks.events_of(started["id"])

    events = wait_until(
        recorded,
        lambda events: events and all(event["status"] == "delivered" for event in events),
        15,
        what="every webhook delivered",
    )
    tries = [t["status_code"] for event in events for t in event["tries"]]  # type: ignore[attr-defined]
    assert tries.count(500) == 2 and tries.count(204) == len(events)
    assert sum(event["attempts"] for event in events) == len(events) + 2  # type: ignore[misc]
    receiver.stop()


def test_a_rotated_secret_signs_what_is_sent_afterwards(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    receiver = WebhookReceiver().start()
    otpgate = start(start_otpgate, gateway)
    app = otpgate.create_app({"status_callback_url": receiver.url})
    old = otpgate.webhook_secret(app)
    new = otpgate.webhook_secret(app, rotate=True)
    assert new != old and otpgate.webhook_secret(app) == new

    otpgate.start_verification(app, "+447123120125")
    wait_until(lambda: receiver.seen, bool, 10, what="a webhook")

    seen = receiver.seen[0]
    assert signature_is_valid(new, seen.headers["otpgate-signature"], seen.body)
    assert not signature_is_valid(old, seen.headers["otpgate-signature"], seen.body)
    receiver.stop()


def test_apps_without_a_callback_url_get_no_webhooks(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    otpgate = start(start_otpgate, gateway)
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120126")
    otpgate.wait_for_delivery(app, started["id"], "delivered")
    assert otpgate.runtime.webhooks.events_of(started["id"]) == []


def test_only_the_admin_reads_or_rotates_a_secret(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    otpgate = start(start_otpgate, gateway)
    app = otpgate.create_app()
    path = f"/v1/apps/{app.app_id}/webhook-secret"
    assert otpgate.http.get(path, headers=app.headers).status_code == 403
    assert otpgate.http.post(path, headers=app.headers).status_code == 403
    assert otpgate.http.get(path).status_code == 401
