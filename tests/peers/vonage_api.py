"""Vonage's Voice and Messages APIs as Vonage documents them, for one application: requests
carry a Bearer JWT signed RS256 with the application's private key (checked here with its
public key); `POST /v1/calls` takes an NCCO and answers 201 with the call's uuid, then sends
the call's events (started, ringing, answered, completed) to its `event_url`;
`POST /v1/messages` takes a WhatsApp `custom` template message and answers 202 with its
message_uuid, then sends its statuses (submitted, delivered) to its `webhook_url`. Every
callback carries a JWT signed HS256 with the signature secret, whose `payload_hash` is the
SHA-256 of the body. Errors are RFC 7807 problems.

Destinations steer it: ending 0400 is refused (400 for a call, 422 for a message); 0429 is
throttled (429) the first `fail_times` times; ending 0000 is accepted, then the call is busy
or the message rejected (1340)."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from typing import Any

import jwt

from peers.httpfake import Answer, FakeHttpPeer, Seen

APPLICATION_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
API_KEY = "vonagekey"
SIGNATURE_SECRET = "vonage-signature-secret-0123456789"


def signed_callback_headers(body: bytes, secret: str = SIGNATURE_SECRET) -> dict[str, str]:
    claims = {
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": API_KEY,
        "application_id": APPLICATION_ID,
    }
    token = jwt.encode(claims, secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def problem(status: int, kind: str, title: str) -> Answer:
    return Answer(
        status,
        {
            "type": f"https://developer.vonage.com/api-errors/{kind}",
            "title": title,
            "detail": title,
            "instance": str(uuid.uuid4()),
        },
    )


class FakeVonageApi(FakeHttpPeer):
    def __init__(self, public_key: bytes, *, fail_times: int = 2) -> None:
        super().__init__()
        self.public_key = public_key
        self.fail_times = fail_times
        self.calls: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []

    def handle(self, request: Seen) -> Answer:
        if request.method != "POST" or request.path not in ("/v1/calls", "/v1/messages"):
            return problem(404, "#not-found", "Not Found")
        if not self._authorized(request):
            return problem(401, "#unauthorized", "Unauthorized")
        if not isinstance(request.json, dict):
            return problem(400, "#bad-request", "Bad Request")
        if request.path == "/v1/calls":
            return self._call(request.json)
        return self._message(request.json)

    def _authorized(self, request: Seen) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            claims = jwt.decode(token, self.public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            return False
        return scheme == "Bearer" and claims.get("application_id") == APPLICATION_ID

    def _call(self, call: dict[str, Any]) -> Answer:
        try:
            [to] = call["to"]
            number, caller = to["number"], call["from"]["number"]
            [talk] = call["ncco"]
            assert to["type"] == "phone" and call["from"]["type"] == "phone"
            assert talk["action"] == "talk" and talk["text"] and talk["language"]
        except (KeyError, TypeError, ValueError, AssertionError):
            return problem(400, "#bad-request", "Bad Request")
        if not (number.isdigit() and caller.isdigit()):
            return problem(400, "#bad-request", "Bad Request")
        if number.endswith("0400"):
            return problem(400, "#bad-request", "Bad Request")
        if number.endswith("0429") and self.count(number) <= self.fail_times:
            return problem(429, "#throttled", "Too Many Requests")
        call_uuid, conversation = str(uuid.uuid4()), f"CON-{uuid.uuid4()}"
        self.calls.append({**call, "uuid": call_uuid})
        if call.get("event_url"):
            last = ["busy"] if number.endswith("0000") else ["answered", "completed"]
            events = [
                {
                    "from": caller,
                    "to": number,
                    "uuid": call_uuid,
                    "conversation_uuid": conversation,
                    "status": status,
                    "direction": "outbound",
                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                }
                for status in ["started", "ringing", *last]
            ]
            self._send(call["event_url"][0], events)
        return Answer(
            201,
            {
                "uuid": call_uuid,
                "status": "started",
                "direction": "outbound",
                "conversation_uuid": conversation,
            },
        )

    def _message(self, message: dict[str, Any]) -> Answer:
        try:
            template = message["custom"]["template"]
            body, button = template["components"]
            assert message["message_type"] == "custom" and message["channel"] == "whatsapp"
            assert message["custom"]["type"] == "template" and template["name"]
            assert template["language"]["code"] and "-" not in template["language"]["code"]
            assert body["type"] == "body" and button["sub_type"] == "url"
            number = message["to"]
        except (KeyError, TypeError, ValueError, AssertionError):
            return problem(422, "messages#1020", "Invalid params")
        if not str(number).isdigit() or number.endswith("0400"):
            return problem(422, "messages#1020", "Invalid params")
        if number.endswith("0429") and self.count(number) <= self.fail_times:
            return problem(429, "messages#1000", "Throttled")
        message_uuid = str(uuid.uuid4())
        self.messages.append({**message, "message_uuid": message_uuid})
        if message.get("webhook_url"):
            last = "rejected" if number.endswith("0000") else "delivered"
            statuses = []
            for status in ["submitted", last]:
                event: dict[str, Any] = {
                    "message_uuid": message_uuid,
                    "to": number,
                    "from": message["from"],
                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "status": status,
                    "channel": "whatsapp",
                }
                if message.get("client_ref"):
                    event["client_ref"] = message["client_ref"]
                if status == "rejected":
                    event["error"] = {
                        "type": "https://developer.vonage.com/api-errors/messages#1340",
                        "title": 1340,
                        "detail": "Outside the allowed window",
                        "instance": secrets.token_hex(8),
                    }
                statuses.append(event)
            self._send(message["webhook_url"], statuses)
        return Answer(202, {"message_uuid": message_uuid})

    def _send(self, url: str, events: list[dict[str, Any]]) -> None:
        def post(event: dict[str, Any]) -> Any:
            body = json.dumps(event).encode()
            headers = signed_callback_headers(body)
            return lambda client: client.post(url, content=body, headers=headers)

        self.call_back([(0.02, post(event)) for event in events])
