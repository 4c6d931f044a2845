"""The SMPP provider against the SMSC simulator, a separate process on smpp34's server."""

from __future__ import annotations

import pytest
from peers.otpgate import LiveOtpgate, StartOtpgate, wait_until
from peers.smsc_process import SmscProcess

from otpgate.delivery.senders.smpp import UDHI


@pytest.fixture
def otpgate(start_otpgate: StartOtpgate, smsc: SmscProcess) -> LiveOtpgate:
    return start_otpgate(**smpp_settings(smsc))


def smpp_settings(smsc: SmscProcess, **more: object) -> dict[str, object]:
    return {
        "sms_provider": "smpp",
        "smpp_host": "127.0.0.1",
        "smpp_port": smsc.port,
        "smpp_system_id": "otpgate",
        "smpp_password": "secret",
        "smpp_timeout_seconds": 2.0,
        **more,
    }


def test_submit_sm_and_its_receipt_mark_the_message_delivered(
    otpgate: LiveOtpgate, smsc: SmscProcess
) -> None:
    app = otpgate.create_app({"template": "Your code is {code}"})
    started = otpgate.start_verification(app, "+447123120123", sender="ACME")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    [submit] = smsc.accepted()
    assert submit["destination"] == "447123120123" and submit["source"] == "ACME"
    assert submit["data_coding"] == 0 and submit["registered_delivery"] & 1
    [message] = otpgate.messages(app, started["id"])
    assert message["provider"] == "smpp" and message["provider_message_id"] == submit["id"]


def test_unicode_text_goes_as_ucs2(otpgate: LiveOtpgate, smsc: SmscProcess) -> None:
    app = otpgate.create_app({"template": "您的验证码是 {code}"})
    started = otpgate.start_verification(app, "+447123120124")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    [submit] = smsc.accepted()
    assert submit["data_coding"] == 8
    text = bytes.fromhex(submit["short_message"]).decode("utf-16-be")
    assert text.startswith("您的验证码是 ")


def test_a_long_text_goes_as_concatenated_parts(otpgate: LiveOtpgate, smsc: SmscProcess) -> None:
    template = "Your code is {code}. " + "Never share it with anyone, not even us. " * 6
    app = otpgate.create_app({"template": template})
    started = otpgate.start_verification(app, "+447123120125")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    parts = smsc.accepted()
    assert len(parts) == 2
    headers = [bytes.fromhex(part["short_message"])[:6] for part in parts]
    # UDH: length 5, IE 00 (8-bit reference) of length 3: reference, total, sequence
    assert all(part["esm_class"] & UDHI for part in parts)
    assert [header[:3] for header in headers] == [b"\x05\x00\x03"] * 2
    assert headers[0][3] == headers[1][3]
    assert sorted((header[4], header[5]) for header in headers) == [(2, 1), (2, 2)]


def test_an_undeliverable_receipt(otpgate: LiveOtpgate, smsc: SmscProcess) -> None:
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120000")

    otpgate.wait_for_delivery(app, started["id"], "undelivered")

    assert otpgate.messages(app, started["id"])[0]["last_error"] == "smpp UNDELIV err:001"


def test_a_receipt_before_its_submit_sm_resp_is_kept_and_applied(
    otpgate: LiveOtpgate, smsc: SmscProcess
) -> None:
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120777")

    otpgate.wait_for_delivery(app, started["id"], "delivered")


def test_an_invalid_destination_makes_the_verification_undeliverable(
    otpgate: LiveOtpgate, smsc: SmscProcess
) -> None:
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120400")

    found = otpgate.wait_for_delivery(app, started["id"], "failed")

    assert found["status"] == "undeliverable"
    assert otpgate.messages(app, started["id"])[0]["last_error"].startswith("smpp ESME_RINVDSTADR")


def test_throttling_is_retried_then_delivered(otpgate: LiveOtpgate, smsc: SmscProcess) -> None:
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120503")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    assert otpgate.messages(app, started["id"])[0]["attempts"] == 3


def test_smsc_down_fails_over_to_the_next_provider(
    start_otpgate: StartOtpgate, smsc: SmscProcess
) -> None:
    smsc.stop()
    otpgate = start_otpgate(**smpp_settings(smsc, sms_provider="smpp,outbox"))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120126")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    assert otpgate.messages(app, started["id"])[0]["provider"] == "outbox"


def test_a_dropped_link_is_rebound_and_nothing_is_lost(
    otpgate: LiveOtpgate, smsc: SmscProcess
) -> None:
    # thirty codes to one range that nobody enters: the pumping guard would rightly block it
    app = otpgate.create_app({"fraud_guard": False})
    first = [otpgate.start_verification(app, f"+4471231201{n:02d}") for n in range(10)]
    for verification in first:
        otpgate.wait_for_delivery(app, verification["id"], "delivered")

    smsc.drop_links()
    later = [otpgate.start_verification(app, f"+4471231202{n:02d}") for n in range(10)]
    smsc.restart()  # and the SMSC itself goes away and comes back
    more = [otpgate.start_verification(app, f"+4471231203{n:02d}") for n in range(10)]

    for verification in later + more:
        otpgate.wait_for_delivery(app, verification["id"], "delivered", timeout=30)
    destinations = {submit["destination"] for submit in smsc.accepted()}
    assert {v["to"].lstrip("+") for v in first + later + more} <= destinations


def test_throughput_cap_spaces_the_submits(start_otpgate: StartOtpgate, smsc: SmscProcess) -> None:
    otpgate = start_otpgate(**smpp_settings(smsc, smpp_throughput=20))
    app = otpgate.create_app()
    for n in range(10, 20):
        otpgate.start_verification(app, f"+4471231204{n}")

    wait_until(lambda: smsc.accepted(), lambda found: len(found) == 10, 15, what="10 submits")

    times = sorted(submit["at"] for submit in smsc.accepted())
    assert times[-1] - times[0] >= 9 / 20 * 0.9
