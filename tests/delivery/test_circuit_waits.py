"""A message whose every provider has its circuit open is not tried, and that claim is not one
of its eight tries: a provider that is out for longer than the tries would span (the minute
of flapping in `make soak`) loses no message; it waits for the circuit to let one through."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from peers.faulty_gateway import FaultyGateway
from peers.otpgate import StartOtpgate, wait_until
from support.numbers import new_mobile

REFUSALS_WANTED = 3  # tries the gateway refused, each a second apart (the circuit's reset)


@pytest.fixture
def gateway() -> Iterator[FaultyGateway]:
    peer = FaultyGateway().start()
    yield peer
    peer.stop()


def test_only_the_tries_that_reach_a_provider_count(
    start_otpgate: StartOtpgate, gateway: FaultyGateway
) -> None:
    otpgate = start_otpgate(
        sms_provider="http",
        http_url=gateway.url,
        http_receipt_token="circuit-waits-token-0123",
        circuit_failure_threshold=1,  # one refusal opens it
        circuit_reset_seconds=1.0,
        delivery_retry_base_seconds=0.05,  # retries would come due many times a second
    )
    app = otpgate.create_app()
    gateway.mode = "error"
    verification_id = otpgate.start_verification(app, new_mobile())["id"]
    deadline = time.monotonic() + 30
    while gateway.refused < REFUSALS_WANTED:
        assert time.monotonic() < deadline, "the gateway was not tried again"
        time.sleep(0.05)
    gateway.mode = "up"

    otpgate.wait_for_delivery(app, verification_id, "sent", "delivered", timeout=30)
    [message] = wait_until(
        lambda: otpgate.messages(app, verification_id),
        lambda found: found[0]["status"] in ("sent", "delivered"),
        10,
        what="the message sent",
    )
    # every claim between two trials met the open circuit: none of them counted
    assert message["attempts"] == gateway.refused + 1
    assert len(gateway.deliveries()) == 1
