"""Twilio's Messages and Calls APIs as Twilio documents them: Basic auth with the account SID
and auth token, a form body, 201 with the new resource, errors as `{code, message, status}`,
and StatusCallbacks signed with X-Twilio-Signature: a message's `sent`, then `delivered` or
`undelivered`; a call's one `completed` callback (the default StatusCallbackEvent), whose
CallStatus is `completed`, or `busy` for a destination ending 0000.

A message needs a Body or a ContentSid (a content template, as WhatsApp senders use).
Destinations steer it: ending 0400 gets error 21211 (invalid 'To'); 0429 gets 429 (20429)
the first `fail_times` times; 0503 gets 503 the first `fail_times` times; ending 0000 is
accepted and then undelivered (30003)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any

from peers.httpfake import Answer, FakeHttpPeer, Seen

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-test-auth-token-0123456789"


def sign(token: str, url: str, params: dict[str, str]) -> str:
    data = url + "".join(key + params[key] for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def error(status: int, code: int, message: str) -> Answer:
    return Answer(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


class FakeTwilio(FakeHttpPeer):
    def __init__(self, *, fail_times: int = 2, receipt_delay: float = 0.05) -> None:
        super().__init__()
        self.fail_times = fail_times
        self.receipt_delay = receipt_delay
        self.created: list[dict[str, str]] = []
        self.calls: list[dict[str, str]] = []

    def handle(self, request: Seen) -> Answer:
        found = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/(Messages|Calls)\.json", request.path)
        if request.method != "POST" or not found:
            return error(404, 20404, "The requested resource was not found")
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if found.group(1) != ACCOUNT_SID or request.headers.get("authorization") != expected:
            return error(401, 20003, "Authenticate")
        form = request.form
        if not form.get("To"):
            return error(400, 21604, "A 'To' phone number is required.")
        if found.group(2) == "Calls":
            return self._call(form)
        if not (form.get("Body") or form.get("ContentSid")):
            return error(400, 21602, "Message body is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return error(400, 21603, "A 'From' phone number is required.")
        to = form["To"]
        if to.endswith("0400"):
            return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to.endswith("0429") and self.count(to) <= self.fail_times:
            return error(429, 20429, "Too Many Requests")
        if to.endswith("0503") and self.count(to) <= self.fail_times:
            return error(503, 20500, "Service Unavailable")
        sid = "SM" + secrets.token_hex(16)
        self.created.append({**form, "sid": sid})
        callback = form.get("StatusCallback")
        if callback:
            self._status_callbacks(callback, sid, form, delivered=not to.endswith("0000"))
        return Answer(
            201,
            {
                "account_sid": ACCOUNT_SID,
                "api_version": "2010-04-01",
                "body": form.get("Body", ""),
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "num_segments": "1",
                "sid": sid,
                "status": "accepted" if form.get("MessagingServiceSid") else "queued",
                "to": to,
                "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
            },
        )

    def _status_callbacks(
        self, url: str, sid: str, form: dict[str, str], *, delivered: bool
    ) -> None:
        def callback(status: str, error_code: str | None) -> Any:
            params = {
                "AccountSid": ACCOUNT_SID,
                "ApiVersion": "2010-04-01",
                "From": form.get("From", ""),
                "MessageSid": sid,
                "MessageStatus": status,
                "SmsSid": sid,
                "SmsStatus": status,
                "To": form["To"],
            }
            if error_code:
                params["ErrorCode"] = error_code
            headers = {"X-Twilio-Signature": sign(AUTH_TOKEN, url, params)}
            return lambda client: client.post(url, data=params, headers=headers)

        final = callback("delivered", None) if delivered else callback("undelivered", "30003")
        self.call_back([(self.receipt_delay, callback("sent", None)), (0.02, final)])

    def _call(self, form: dict[str, str]) -> Answer:
        if not form.get("From"):
            return error(400, 21213, "Caller phone number is required")
        if not (form.get("Twiml") or form.get("Url")):
            return error(400, 21205, "Url parameter is required.")
        to = form["To"]
        if to.endswith("0400"):
            return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to.endswith("0503") and self.count(to) <= self.fail_times:
            return error(503, 20500, "Service Unavailable")
        sid = "CA" + secrets.token_hex(16)
        self.calls.append({**form, "sid": sid})
        callback = form.get("StatusCallback")
        if callback:
            params = {
                "AccountSid": ACCOUNT_SID,
                "ApiVersion": "2010-04-01",
                "CallSid": sid,
                "CallStatus": "busy" if to.endswith("0000") else "completed",
                "Direction": "outbound-api",
                "From": form["From"],
                "To": to,
            }
            headers = {"X-Twilio-Signature": sign(AUTH_TOKEN, callback, params)}
            self.call_back(
                [
                    (
                        self.receipt_delay,
                        lambda client: client.post(callback, data=params, headers=headers),
                    )
                ]
            )
        return Answer(
            201,
            {
                "account_sid": ACCOUNT_SID,
                "api_version": "2010-04-01",
                "direction": "outbound-api",
                "from": form["From"],
                "sid": sid,
                "status": "queued",
                "to": to,
                "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
            },
        )
