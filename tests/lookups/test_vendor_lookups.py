"""IDResponse's do_not_send_to_types and dotdigital's numberStatus answer from the network
when a lookup provider is configured (Vonage Number Insight, local): the US mobile and VoIP
cases the numbering plan alone gets wrong; a refused lookup in each vendor's words; and a
vendor start that waits for the network holds up no other request's database work."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peers.number_insight import FakeNumberInsight
from support.idresponse import IdResponse, assert_envelope
from support.ninety_nine import NinetyNine
from support.vendor_apps import VendorApp, create_vendor_app

US_MOBILE = "2015550123"  # IDResponse numbers default to the US
US_VOIP = "2015550124"
US_SWITCHED_OFF = "2015550126"
US_FAILING = "2015550500"  # the provider answers HTTP 500
UK_LANDLINE = "441212345678"


@pytest.fixture
def vendor_app(client: TestClient, admin_headers: dict[str, str]) -> Any:
    return lambda **settings: create_vendor_app(client, admin_headers, settings)


@pytest.mark.parametrize(
    ("phone", "types", "action"),
    [
        (US_MOBILE, ["mobile"], "FAIL"),
        (US_VOIP, ["voip"], "FAIL"),
        (US_MOBILE, ["voip"], "PENDING"),
        (US_MOBILE, ["landline"], "PENDING"),
        (US_VOIP, ["mobile", "landline"], "PENDING"),
    ],
)
def test_idresponse_suppresses_the_line_types_the_network_finds(
    client: TestClient, vendor_app: Any, phone: str, types: list[str], action: str
) -> None:
    app: VendorApp = vendor_app()
    body = IdResponse(client, app.key_id, app.secret).gateway(phone, types=types)

    if action == "FAIL":
        assert_envelope(body, "FAIL", "SUPPRESSED SENDING CODE")
    else:
        assert_envelope(body, "PENDING", "TRANSACTION REQUIRES FURTHER ATTENTION")


def test_idresponse_asks_the_network_once_for_a_number(
    client: TestClient, vendor_app: Any, insight: FakeNumberInsight
) -> None:
    app: VendorApp = vendor_app()
    idresponse = IdResponse(client, app.key_id, app.secret)
    idresponse.gateway(US_MOBILE, types=["voip"])
    idresponse.gateway(US_MOBILE, types=["voip"])

    assert len(insight.lookups("1" + US_MOBILE)) == 1


def send(client: TestClient, app: VendorApp, to: str) -> Any:
    return client.post("/webapi/verify", json={"to": to, "from": "Test"}, auth=app.basic)


@pytest.mark.parametrize(
    ("to", "status", "number_status"),
    [
        ("1" + US_MOBILE, "CodeNotVerified", "On"),
        ("1" + US_SWITCHED_OFF, "CodeNotVerified", "Off"),
        ("1" + US_VOIP, "CodeNotVerified", "NotProvisioned"),
    ],
)
def test_dotdigital_number_status_comes_from_the_network(
    client: TestClient, vendor_app: Any, to: str, status: str, number_status: str
) -> None:
    answer = send(client, vendor_app(lookup_feeds_fraud_guard=False), to)

    assert answer.status_code == 202, answer.text
    assert (answer.json()["status"], answer.json()["numberStatus"]) == (status, number_status)


def test_dotdigital_a_voip_number_the_app_blocks_is_not_sent_and_not_provisioned(
    client: TestClient, vendor_app: Any
) -> None:
    answer = send(client, vendor_app(blocked_line_types=["voip"]), "1" + US_VOIP)

    assert answer.status_code == 202, answer.text
    assert (answer.json()["status"], answer.json()["numberStatus"]) == (
        "CodeNotSent",
        "NotProvisioned",
    )


def test_dotdigital_a_number_the_plan_already_knows_is_not_looked_up(
    client: TestClient, vendor_app: Any, insight: FakeNumberInsight
) -> None:
    answer = send(client, vendor_app(), UK_LANDLINE)

    assert answer.json()["numberStatus"] == "NotProvisioned"
    assert insight.lookups() == []


def test_ninety_nine_digital_and_sessionm_starts_consult_the_network_too(
    client: TestClient, vendor_app: Any, insight: FakeNumberInsight
) -> None:
    app: VendorApp = vendor_app(blocked_line_types=["voip"], sms_campaign={"opt_in_keyword": "YES"})
    ninety_nine = client.post(
        "/sms/verifySMS",
        data={"apiKey": f"{app.key_id}.{app.secret}", "from": "Shop", "to": "+1" + US_VOIP},
    )
    sessionm = client.post(
        f"/priv/v1/apps/{app.key_id}/messaging_events/sms/validation/request",
        json={"external_id": "cust-1", "to_phone_number": "1" + US_VOIP},
        auth=app.basic,
    )

    assert (ninety_nine.json()["status"], ninety_nine.json()["reason"]) == ("FAIL", 5)
    assert (sessionm.status_code, sessionm.json()["message"]) == (400, "Invalid phone number")
    assert len(insight.lookups("1" + US_VOIP)) == 1  # the second start took the cached answer


def test_a_lookup_the_app_refuses_to_do_without_is_each_vendors_could_not_send(
    client: TestClient, vendor_app: Any, insight: FakeNumberInsight
) -> None:
    app: VendorApp = vendor_app(lookup_failure="refuse")

    idresponse = IdResponse(client, app.key_id, app.secret).gateway(US_FAILING)
    dotdigital = send(client, app, "1" + US_FAILING)
    ninety_nine = NinetyNine(client, f"{app.key_id}.{app.secret}").send("+1" + US_FAILING)

    assert_envelope(idresponse, "FAIL", "FAILED TO SEND TO NUMBER")
    assert dotdigital.status_code == 202, dotdigital.text
    assert (dotdigital.json()["status"], dotdigital.json()["numberStatus"]) == ("CodeNotSent", "On")
    assert (ninety_nine["status"], ninety_nine["reason"]) == ("FAIL", 5)
    assert len(insight.lookups("1" + US_FAILING)) == 3  # each start asked, and was refused
    assert app.native.list().json()["verifications"] == []


# the lookup's timeout is far longer than the test's wait: only the test ends the lookup
@pytest.mark.parametrize("lookup_settings", [{"lookup_timeout_seconds": 30.0}])
def test_a_vendor_start_awaiting_the_network_holds_up_no_other_request(
    client: TestClient, vendor_app: Any, insight: FakeNumberInsight
) -> None:
    app: VendorApp = vendor_app()
    idresponse = IdResponse(client, app.key_id, app.secret)
    insight.answering.clear()
    with ThreadPoolExecutor(2) as requests:
        try:
            waiting = requests.submit(idresponse.gateway, US_VOIP, types=["voip"])
            assert insight.asked.wait(10), "the start never asked the network"
            # a lookup awaited inside an executor call would hold this start (on SQLite,
            # every call) until the network answered
            other = requests.submit(send, client, app, UK_LANDLINE).result(timeout=10)
            assert not waiting.done()
        finally:
            insight.answering.set()
        suppressed = waiting.result(timeout=10)

    assert other.status_code == 202, other.text
    assert other.json()["status"] == "CodeNotVerified"
    assert_envelope(suppressed, "FAIL", "SUPPRESSED SENDING CODE")  # the network said VoIP
