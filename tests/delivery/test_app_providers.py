"""An app may name its own providers, in its own failover order, among the server's."""

from __future__ import annotations

from pathlib import Path

import pytest
from peers.gateway import FakeGateway
from peers.otpgate import StartOtpgate

JSON_BODY = '{"to": "{to}", "from": "{sender}", "text": "{body}"}'


def http_then_outbox(gateway: FakeGateway, **more: object) -> dict[str, object]:
    return {
        "sms_provider": "http,outbox",
        "http_url": gateway.url + "/sms",
        "http_body": JSON_BODY,
        "http_message_id_path": "messages.0.id",
        **more,
    }


def test_an_app_without_its_own_list_uses_the_servers_order(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    otpgate = start_otpgate(**http_then_outbox(gateway))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120701")

    otpgate.wait_for_delivery(app, started["id"], "sent", "delivered")

    [message] = otpgate.messages(app, started["id"])
    assert message["provider"] == "http"
    assert [sent["to"] for sent in gateway.accepted] == ["+447123120701"]


def test_an_apps_own_list_picks_and_orders_the_providers(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    otpgate = start_otpgate(**http_then_outbox(gateway))
    outbox_only = otpgate.create_app({"sms_providers": ["outbox"]})
    outbox_first = otpgate.create_app({"sms_providers": ["outbox", "http"]})
    first = otpgate.start_verification(outbox_only, "+447123120702")
    second = otpgate.start_verification(outbox_first, "+447123120703")

    otpgate.wait_for_delivery(outbox_only, first["id"], "delivered")
    otpgate.wait_for_delivery(outbox_first, second["id"], "delivered")

    assert otpgate.messages(outbox_only, first["id"])[0]["provider"] == "outbox"
    assert otpgate.messages(outbox_first, second["id"])[0]["provider"] == "outbox"
    assert gateway.accepted == []


@pytest.mark.parametrize(
    ("providers", "detail"),
    [
        (["twilio"], "twilio is not configured on this server"),
        (["carrier-pigeon"], "'carrier-pigeon' is not a provider"),
        ("outbox", "must be a list"),
    ],
)
def test_a_provider_list_the_server_cannot_serve_is_refused(
    start_otpgate: StartOtpgate, gateway: FakeGateway, providers: object, detail: str
) -> None:
    otpgate = start_otpgate(**http_then_outbox(gateway))
    answer = otpgate.http.post(
        "/v1/apps",
        json={"name": "picky", "settings": {"sms_providers": providers}},
        headers=otpgate.admin_headers,
    )

    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["field"] == "settings.sms_providers"
    assert detail in problem["detail"]


def test_when_the_server_drops_an_apps_providers_its_messages_are_undeliverable(
    start_otpgate: StartOtpgate, gateway: FakeGateway, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kept"
    before = start_otpgate(data_dir=data_dir, **http_then_outbox(gateway))
    app = before.create_app({"sms_providers": ["http"]})
    before.stop()

    after = start_otpgate(data_dir=data_dir, sms_provider="outbox")
    started = after.start_verification(app, "+447123120704")

    found = after.wait_for_delivery(app, started["id"], "failed")
    assert found["status"] == "undeliverable"
    [message] = after.messages(app, started["id"])
    assert message["last_error"] == "none of the app's sms_providers is configured on this server"
    assert gateway.accepted == []
