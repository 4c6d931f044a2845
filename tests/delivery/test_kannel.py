"""The generic HTTP provider against Kannel itself: smsbox's sendsms with a dlr-url, relayed
over SMPP to the SMSC simulator, with Kannel calling the receipts back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers.kannel import Kannel, installed
from peers.otpgate import StartOtpgate, wait_until
from peers.smsc_process import SmscProcess

if not installed():
    if os.environ.get("CI"):
        raise RuntimeError("CI must have Kannel: `make peers` installs Debian's kannel")
    pytest.skip("Kannel is not installed (make peers)", allow_module_level=True)


@pytest.fixture
def kannel(tmp_path: Path, smsc: SmscProcess) -> Iterator[Kannel]:
    gateway = Kannel(tmp_path, smsc.port).start()
    yield gateway
    gateway.stop()  # before the simulator (fixture order)


def kannel_settings(kannel: Kannel) -> dict[str, object]:
    return {
        "sms_provider": "http",
        "http_method": "GET",
        "http_url": kannel.url
        + "/cgi-bin/sendsms?username=otp&password=otppwd&from={sender}&to={to}&text={body}"
        + "&dlr-mask=31&dlr-url={receipt_url}%26status%3D%25d",
        "http_accepted_statuses": "202",
        "http_receipt_token": "kannel-receipt-token-0123",
    }


def test_kannel_relays_the_message_and_calls_the_delivery_report_back(
    start_otpgate: StartOtpgate, kannel: Kannel, smsc: SmscProcess
) -> None:
    otpgate = start_otpgate(**kannel_settings(kannel))
    app = otpgate.create_app({"template": "Your code is {code}"})
    delivered = otpgate.start_verification(app, "+447123120123", sender="ACME")
    refused = otpgate.start_verification(app, "+447123120000", sender="ACME")

    otpgate.wait_for_delivery(app, delivered["id"], "delivered", timeout=30)
    otpgate.wait_for_delivery(app, refused["id"], "undelivered", timeout=30)

    submits = {submit["destination"].lstrip("+"): submit for submit in smsc.accepted()}
    assert set(submits) == {"447123120123", "447123120000"}
    assert submits["447123120123"]["source"] == "ACME"
    text = bytes.fromhex(submits["447123120123"]["short_message"]).decode()
    assert text.startswith("Your code is ")
    [message] = otpgate.messages(app, refused["id"])
    assert message["provider"] == "http" and message["last_error"] == "status 2"


def test_a_wrong_password_is_refused_for_good(start_otpgate: StartOtpgate, kannel: Kannel) -> None:
    settings = kannel_settings(kannel)
    settings["http_url"] = str(settings["http_url"]).replace("otppwd", "wrong")
    otpgate = start_otpgate(**settings)
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120124")

    [message] = wait_until(
        lambda: otpgate.messages(app, started["id"]),
        lambda found: found[0]["last_error"] == "http: HTTP 403",
        15,
        what="Kannel's 403 recorded",
    )

    # bad credentials are ours, not the message's: transient, retried, maybe by another provider
    assert message["status"] in ("queued", "sending", "failed")
