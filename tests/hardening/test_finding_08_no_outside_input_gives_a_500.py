"""Finding 8: inputs an outsider controls never give a 500: JSON nested past the parser's
depth on a receipt route, a lone surrogate in a receipt, a Vonage client-ref longer than the
receipt key column, a status_callback_url longer than the webhook url column (validation
allows what the column holds, no more)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from peers.vonage import sign
from support.numbers import new_mobile
from support.served import StartOtpgate

ADMIN = {"Authorization": "Bearer no-500-admin-token-0123456789"}
TOKEN = "receipt-token-0123456789"
SIGNATURE_SECRET = "vonage-signature-secret-0123456789"
HTTP = {
    "OTPGATE_SMS_PROVIDER": "http,vonage",
    "OTPGATE_HTTP_URL": "http://127.0.0.1:9/send",
    "OTPGATE_HTTP_RECEIPT_TOKEN": TOKEN,
    "OTPGATE_VONAGE_API_KEY": "key",
    "OTPGATE_VONAGE_API_SECRET": "secret",
    "OTPGATE_VONAGE_SIGNATURE_SECRET": SIGNATURE_SECRET,
    "OTPGATE_ADMIN_TOKEN": ADMIN["Authorization"][7:],
}


def test_outsiders_inputs_are_answered_without_a_500(
    engine_settings: Callable[[], dict[str, str]], start_otpgate: StartOtpgate
) -> None:
    served = start_otpgate(**engine_settings(), **HTTP)
    receipts = f"/v1/receipts/http?token={TOKEN}"
    json_body = {"Content-Type": "application/json"}

    nested = served.http.post(receipts, content=b"[" * 60_000, headers=json_body)
    assert nested.status_code < 500, nested.text

    surrogate = served.http.post(
        receipts, content=b'{"id": "msg_\\ud800", "status": "1"}', headers=json_body
    )
    assert surrogate.status_code == 400, surrogate.text
    assert surrogate.json()["code"] == "validation_error"

    params = {
        "messageId": "0A0000000123ABCD1",
        "status": "delivered",
        "client-ref": "c" * 5000,
        "timestamp": str(int(time.time())),
        "nonce": "nonce-1",
    }
    params["sig"] = sign(params, SIGNATURE_SECRET, "md5hash")
    long_ref = served.http.get("/v1/receipts/vonage", params=params)
    assert long_ref.status_code < 500, long_ref.text


def test_a_callback_url_is_allowed_exactly_as_long_as_its_column(
    engine_settings: Callable[[], dict[str, str]], start_otpgate: StartOtpgate
) -> None:
    served = start_otpgate(**engine_settings(), **HTTP)

    def app_with_callback(length: int, name: str) -> object:
        url = "https://hooks.example.com/" + "a" * (length - len("https://hooks.example.com/"))
        return served.http.post(
            "/v1/apps",
            json={"name": name, "settings": {"status_callback_url": url}},
            headers=ADMIN,
        )

    too_long = app_with_callback(2001, "too-long")
    assert too_long.status_code == 400
    assert json.loads(too_long.text)["field"] == "settings.status_callback_url"
    longest = app_with_callback(2000, "longest")
    assert longest.status_code == 201
    key = served.http.post(f"/v1/apps/{longest.json()['id']}/keys", headers=ADMIN).json()
    started = served.http.post(
        "/v1/verifications",
        json={"to": new_mobile()},
        headers={"Authorization": f"Bearer {key['api_key']}"},
    )
    assert started.status_code == 201, started.text  # its webhook event fits the column
