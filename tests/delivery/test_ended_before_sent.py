"""A message still waiting for its provider when its verification ends (canceled, approved,
locked, expired) is failed, never sent: no code reaches a phone after the verification is over."""

from __future__ import annotations

from peers.gateway import FakeGateway
from peers.otpgate import StartOtpgate, wait_until

DOWN_FOR_GOOD = 1_000_000  # the gateway's 503s for a number ending 0503, until told otherwise


def test_a_message_waiting_for_a_provider_is_not_sent_after_its_verification_is_canceled(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    gateway.fail_times = DOWN_FOR_GOOD
    otpgate = start_otpgate(sms_provider="http", http_url=gateway.url + "/sms")
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120503")
    wait_until(lambda: len(gateway.seen), lambda tries: tries >= 2, 15, what="two refused tries")

    canceled = otpgate.http.post(f"/v1/verifications/{started['id']}/cancel", headers=app.headers)
    assert canceled.status_code == 200
    gateway.fail_times = 0  # the provider is back

    [message] = wait_until(
        lambda: otpgate.messages(app, started["id"]),
        # a try the cancel found in flight is `sending` until its 503 puts the message back
        lambda found: found[0]["status"] not in ("queued", "sending"),
        15,
        what="the message's next claim",
    )
    assert message["status"] == "failed"
    assert gateway.accepted == []
    assert otpgate.verification(app, started["id"])["status"] == "canceled"
