"""Vonage's SMS API: `POST /sms/json` with api_key and api_secret, `200` with one entry per
part and a `status` per part ("0" is success), and delivery receipts to the `callback` URL as
GET query parameters, signed (`sig`) when the peer has a signature secret.

Destinations steer it: ending 0400 gets status 3 (invalid parameters); 0503 gets status 1
(throttled) the first `fail_times` times; ending 0000 is accepted and its receipt says
`failed`. A text over 160 characters (70 for unicode) is answered as several parts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from peers.httpfake import Answer, FakeHttpPeer, Seen

API_KEY = "vonagekey"
API_SECRET = "vonage-secret-0123"
SIGNATURE_SECRET = "vonage-signature-secret-0123456789"


def sign(params: dict[str, str], secret: str, method: str) -> str:
    text = "".join(
        "&{}={}".format(key, params[key].replace("&", "_").replace("=", "_"))
        for key in sorted(params)
    )
    if method == "md5hash":
        return hashlib.md5((text + secret).encode()).hexdigest()
    return hmac.new(secret.encode(), text.encode(), getattr(hashlib, method)).hexdigest()


class FakeVonage(FakeHttpPeer):
    def __init__(
        self,
        *,
        fail_times: int = 2,
        receipt_delay: float = 0.05,
        signature_secret: str | None = None,
        signature_method: str = "md5hash",
    ) -> None:
        super().__init__()
        self.fail_times = fail_times
        self.receipt_delay = receipt_delay
        self.signature_secret = signature_secret
        self.signature_method = signature_method
        self.accepted: list[dict[str, str]] = []

    def handle(self, request: Seen) -> Answer:
        if request.path != "/sms/json":
            return Answer(404, {"error": "not found"})
        form: dict[str, Any] = request.form or request.json or request.query
        if form.get("api_key") != API_KEY or form.get("api_secret") != API_SECRET:
            return self._status("4", "Bad Credentials")
        for name in ("from", "to", "text"):
            if not form.get(name):
                return self._status("2", f"Missing {name}")
        to = form["to"]
        if to.startswith("+") or not to.isdigit():
            return self._status("3", "Invalid to address")
        if to.endswith("0400"):
            return self._status("3", "Invalid to address")
        if to.endswith("0503") and self.count(to) <= self.fail_times:
            return self._status("1", "Throughput Rate Exceeded - please wait [ 30 ] and retry")
        limit = 160 if form.get("type", "text") == "text" else 70
        count = 1 if len(form["text"]) <= limit else -(-len(form["text"]) // (limit - 7))
        ids = [secrets.token_hex(8).upper() for _ in range(count)]
        self.accepted.append({**form, "message-ids": ",".join(ids)})
        if form.get("callback"):
            self._receipts(form, ids, delivered=not to.endswith("0000"))
        return Answer(
            200,
            {
                "message-count": str(count),
                "messages": [
                    {
                        "to": to,
                        "message-id": message_id,
                        "status": "0",
                        "remaining-balance": "3.14159265",
                        "message-price": "0.03330000",
                        "network": "23410",
                        "client-ref": form.get("client-ref", ""),
                    }
                    for message_id in ids
                ],
            },
        )

    @staticmethod
    def _status(status: str, text: str) -> Answer:
        return Answer(
            200, {"message-count": "1", "messages": [{"status": status, "error-text": text}]}
        )

    def _receipts(self, form: dict[str, str], ids: list[str], *, delivered: bool) -> None:
        url = form["callback"]

        def receipt(message_id: str) -> Any:
            params = {
                "msisdn": form["to"],
                "to": form["from"],
                "network-code": "23410",
                "messageId": message_id,
                "price": "0.03330000",
                "status": "delivered" if delivered else "failed",
                "scts": time.strftime("%y%m%d%H%M"),
                "err-code": "0" if delivered else "6",
                "api-key": API_KEY,
                "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S"),
            }
            if form.get("client-ref"):
                params["client-ref"] = form["client-ref"]
            if self.signature_secret is not None:
                params["timestamp"] = str(int(time.time()))
                params["nonce"] = secrets.token_hex(8)
                params["sig"] = sign(params, self.signature_secret, self.signature_method)
            return lambda client: client.get(url, params=params)

        self.call_back(
            [(self.receipt_delay if i == 0 else 0.01, receipt(m)) for i, m in enumerate(ids)]
        )
