"""A call's providers in failover order: a transient refusal by the first (Vonage refusing the
application's key) moves the call to the next (Twilio), which places it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from peers.otpgate import StartOtpgate
from peers.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from peers.vonage_api import APPLICATION_ID, SIGNATURE_SECRET, FakeVonageApi


@pytest.fixture
def vonage() -> Iterator[FakeVonageApi]:
    """A Vonage that knows another key than the one otpgate is given."""
    known = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = known.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    peer = FakeVonageApi(public).start()
    yield peer
    peer.stop()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    peer = FakeTwilio().start()
    yield peer
    peer.stop()


def test_a_call_refused_by_vonage_for_its_credentials_is_placed_by_twilio(
    start_otpgate: StartOtpgate, vonage: FakeVonageApi, twilio: FakeTwilio, tmp_path: Path
) -> None:
    unknown = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "vonage-private.key"
    key_file.write_bytes(
        unknown.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    otpgate = start_otpgate(
        voice_provider="vonage,twilio",
        vonage_application_id=APPLICATION_ID,
        vonage_private_key_file=key_file,
        vonage_voice_from="+447700900001",
        vonage_signature_secret=SIGNATURE_SECRET,
        vonage_api_base_url=vonage.url,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_voice_from="+15005550006",
        twilio_base_url=twilio.url,
    )
    app = otpgate.create_app({"channels": ["sms", "call"]})

    started = otpgate.start_verification(app, "+447123120123", channel="call")
    otpgate.wait_for_delivery(app, started["id"], "delivered")

    assert vonage.calls == [] and len(vonage.seen) == 1  # refused with 401: transient
    [message] = otpgate.messages(app, started["id"])
    assert (message["provider"], message["attempts"]) == ("twilio", 1)
