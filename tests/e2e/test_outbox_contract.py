"""The developer outbox contract (shared/api/native.md): the message is readable when the
start's 201 is answered, not once the delivery worker has run."""

from __future__ import annotations

from support.served import ServedOtpgate

STARTS = 60


def test_outbox_holds_the_message_when_the_start_is_answered(otpgate: ServedOtpgate) -> None:
    app = otpgate.new_app("outbox-contract", fraud_guard=False)
    missing = []
    for n in range(STARTS):
        to = f"+4479460{n:05d}"
        started = app.start(to=to)
        assert started.status_code == 201, started.text
        # read at once: no polling, no retry
        messages = app.outbox(to=to, limit=1).json()["messages"]
        if not messages or messages[0]["verification_id"] != started.json()["id"]:
            missing.append(n)
    assert missing == [], f"{len(missing)} of {STARTS} starts had no message in the outbox yet"
