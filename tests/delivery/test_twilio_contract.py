"""Our Twilio requests against Twilio's published OpenAPI description, served by Prism with
request validation on: a request that breaks the contract would get a 4xx and fail the send."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers.otpgate import StartOtpgate
from peers.prism import Prism, installed

if not installed():
    if os.environ.get("CI"):
        raise RuntimeError("CI must have Prism and Twilio's spec: run `make peers`")
    pytest.skip("Prism is not installed (make peers)", allow_module_level=True)


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    server = Prism(Path(tmp_path_factory.mktemp("prism")) / "prism.log").start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "sender",
    [{"twilio_from": "+15005550006"}, {"twilio_messaging_service_sid": "MG" + "0" * 32}],
    ids=["from", "messaging_service"],
)
def test_messages_create_matches_twilios_openapi(
    start_otpgate: StartOtpgate, prism: Prism, sender: dict[str, str]
) -> None:
    otpgate = start_otpgate(
        sms_provider="twilio",
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="contract-token",
        twilio_base_url=prism.url,
        **sender,
    )
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120123")

    otpgate.wait_for_delivery(app, started["id"], "sent")

    [message] = otpgate.messages(app, started["id"])
    assert message["provider_message_id"].startswith(("SM", "MM"))
    assert message["last_error"] is None


def test_prism_refuses_a_request_without_credentials(prism: Prism) -> None:
    import httpx

    answer = httpx.post(
        f"{prism.url}/2010-04-01/Accounts/AC{'0' * 32}/Messages.json",
        data={"To": "+447123120123", "From": "+15005550006", "Body": "hello"},
    )
    assert answer.status_code == 401  # so the passing tests above did authenticate
