"""Meta's WhatsApp Cloud API as Meta documents it: `POST /{version}/{phone number id}/messages`
with a Bearer access token and a template message, 200 with the message's `wamid`, Graph
errors as `{"error": {"message", "type", "code", "fbtrace_id"}}`; and the app's webhook: a
GET handshake (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge` echoed back) and
message statuses (`sent`, then `delivered`, or `failed` with its errors) POSTed to the app's
one callback URL, signed `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body, app secret>`.

Destinations steer it: ending 0400 gets 131030 (not an allowed recipient, HTTP 400); 0429
gets 130429 (throughput reached, HTTP 400) the first `fail_times` times; ending 0000 is
accepted, then fails with 131026 (undeliverable)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any

from peers.httpfake import Answer, FakeHttpPeer, Seen

ACCESS_TOKEN = "EAAG-meta-test-access-token-0123456789"
APP_SECRET = "meta-app-secret-0123456789abcdef"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"


def hub_signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def graph_error(status: int, code: int, message: str, kind: str = "OAuthException") -> Answer:
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": secrets.token_hex(8)}
    return Answer(status, {"error": error})


def status_notification(statuses: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "statuses": statuses,
                        },
                    }
                ],
            }
        ],
    }


class FakeMeta(FakeHttpPeer):
    def __init__(self, *, webhook_url: str | None = None, fail_times: int = 2) -> None:
        super().__init__()
        self.webhook_url = webhook_url  # the app's callback URL, set in its dashboard
        self.fail_times = fail_times
        self.sent: list[dict[str, Any]] = []

    def handle(self, request: Seen) -> Answer:
        found = re.fullmatch(r"/v\d+\.\d+/(\d+)/messages", request.path)
        if request.method != "POST" or not found:
            return graph_error(400, 100, "Unsupported post request.", "GraphMethodException")
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if found.group(1) != PHONE_NUMBER_ID:
            return graph_error(400, 100, "Unsupported post request.", "GraphMethodException")
        message = request.json
        try:
            template = message["template"]
            body, button = template["components"]
            assert message["messaging_product"] == "whatsapp" and message["type"] == "template"
            assert template["name"] and re.fullmatch(
                r"[a-z]{2,3}(_[A-Z]{2})?", template["language"]["code"]
            )
            assert body["type"] == "body" and body["parameters"][0]["type"] == "text"
            assert button["type"] == "button" and button["sub_type"] == "url"
            to = message["to"]
        except (KeyError, TypeError, ValueError, AssertionError):
            return graph_error(400, 131009, "(#131009) Parameter value is not valid")
        if not str(to).isdigit():
            return graph_error(400, 131009, "(#131009) Parameter value is not valid")
        if to.endswith("0400"):
            return graph_error(400, 131030, "(#131030) Recipient phone number not in allowed list")
        if to.endswith("0429") and self.count(to) <= self.fail_times:
            return graph_error(400, 130429, "(#130429) Rate limit hit")
        wamid = "wamid." + secrets.token_urlsafe(36)
        self.sent.append({**message, "wamid": wamid})
        if self.webhook_url:
            self._statuses(wamid, message, failed=to.endswith("0000"))
        return Answer(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            },
        )

    def _statuses(self, wamid: str, message: dict[str, Any], *, failed: bool) -> None:
        url = self.webhook_url
        assert url is not None

        def status(word: str) -> Any:
            entry: dict[str, Any] = {
                "id": wamid,
                "status": word,
                "timestamp": str(int(time.time())),
                "recipient_id": message["to"],
            }
            if message.get("biz_opaque_callback_data"):
                entry["biz_opaque_callback_data"] = message["biz_opaque_callback_data"]
            if word == "failed":
                entry["errors"] = [
                    {
                        "code": 131026,
                        "title": "Message undeliverable",
                        "message": "Message undeliverable",
                    }
                ]
            body = json.dumps(status_notification([entry])).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": hub_signature(body),
            }
            return lambda client: client.post(url, content=body, headers=headers)

        last = "failed" if failed else "delivered"
        self.call_back([(0.02, status("sent")), (0.02, status(last))])
