"""CPU time of the per-request cryptography of the call and WhatsApp providers: signing
Vonage's application JWT (fresh, and reused as the sender does for 5 minutes), and reading a
signed status callback of each provider (signature check and mapping).

CPU time (time.process_time) per operation, not wall-clock: other processes on the machine
do not move it. Usage: python bench/provider_signatures.py
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from otpgate.delivery.senders.meta import MetaReceiptReader, hub_signature
from otpgate.delivery.senders.twilio import TwilioReceiptReader, twilio_signature
from otpgate.delivery.senders.vonage import VonageReceiptReader
from otpgate.delivery.senders.vonage_application import ApplicationToken
from otpgate.service.ports import ReceiptRequest

SECRET = "provider-signature-secret-0123456789"


def microseconds(operation: Callable[[], object], repeats: int) -> float:
    operation()
    started = time.process_time()
    for _ in range(repeats):
        operation()
    return (time.process_time() - started) / repeats * 1e6


def vonage_event() -> ReceiptRequest:
    event = {"uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "status": "answered"}
    body = json.dumps(event).encode()
    claims = {"iat": int(time.time()), "payload_hash": hashlib.sha256(body).hexdigest()}
    headers = {"authorization": "Bearer " + jwt.encode(claims, SECRET, algorithm="HS256")}
    return ReceiptRequest(
        "POST", "https://otp.example/v1/receipts/vonage", headers, {}, {}, event, body
    )


def meta_status() -> ReceiptRequest:
    status = {"id": "wamid.1", "status": "delivered", "biz_opaque_callback_data": "msg_1"}
    change = {"field": "messages", "value": {"statuses": [status]}}
    document = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    body = json.dumps(document).encode()
    headers = {"x-hub-signature-256": hub_signature(SECRET, body)}
    return ReceiptRequest(
        "POST", "https://otp.example/v1/receipts/meta", headers, {}, {}, document, body
    )


def twilio_call_status() -> ReceiptRequest:
    url = "https://otp.example/v1/receipts/twilio"
    form = {"CallSid": "CA" + "1" * 32, "CallStatus": "completed", "To": "+447123120123"}
    headers = {"x-twilio-signature": twilio_signature(SECRET, url, form)}
    return ReceiptRequest("POST", url, headers, {}, form)


def main() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    clock = [0.0]

    def five_minutes_later() -> float:
        clock[0] += 300
        return clock[0]

    fresh = ApplicationToken("application", key, now=five_minutes_later)
    reused = ApplicationToken("application", key)
    vonage, meta, twilio = vonage_event(), meta_status(), twilio_call_status()
    figures = [
        ("Vonage application JWT, signed (RS256, 2048-bit)", microseconds(fresh.bearer, 300)),
        ("Vonage application JWT, reused", microseconds(reused.bearer, 20_000)),
        (
            "Vonage signed event read (HS256 JWT, payload_hash)",
            microseconds(lambda: VonageReceiptReader(SECRET).read(vonage), 20_000),
        ),
        (
            "Meta status webhook read (X-Hub-Signature-256)",
            microseconds(lambda: MetaReceiptReader(SECRET, None).read(meta), 50_000),
        ),
        (
            "Twilio call status callback read (X-Twilio-Signature)",
            microseconds(lambda: TwilioReceiptReader(SECRET).read(twilio), 50_000),
        ),
    ]
    for name, cost in figures:
        print(f"{name:56} {cost:9.1f} µs CPU")


if __name__ == "__main__":
    main()
