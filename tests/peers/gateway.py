"""A generic SMS gateway: `POST /sms` (JSON or form) answers with its own message id and posts
a JSON receipt to the `callback` it was given; `GET /cgi-bin/sendsms` behaves like Kannel's
smsbox and calls the `dlr-url` back with `%d` replaced by Kannel's DLR type (8, then 1 or 2).

Destinations steer it: ending 0400 is refused (400); ending 0503 fails with 503 the first
`fail_times` times; ending 0000 is accepted and then not delivered."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import unquote

from peers.httpfake import Answer, FakeHttpPeer, Seen


class FakeGateway(FakeHttpPeer):
    def __init__(self, *, fail_times: int = 2, receipt_delay: float = 0.05) -> None:
        super().__init__()
        self.fail_times = fail_times
        self.receipt_delay = receipt_delay
        self._ids = itertools.count(1)
        self.accepted: list[dict[str, Any]] = []

    def handle(self, request: Seen) -> Answer:
        fields: dict[str, Any] = request.json or request.form or request.query
        to = str(fields.get("to", ""))
        if to.endswith("0400"):
            return Answer(400, {"error": "invalid destination"})
        if to.endswith("0503") and self.count(to) <= self.fail_times:
            return Answer(503, {"error": "try later"})
        gateway_id = f"gw-{next(self._ids)}"
        self.accepted.append({**fields, "gateway_id": gateway_id})
        delivered = not to.endswith("0000")
        if request.path == "/cgi-bin/sendsms":
            dlr_url = str(fields.get("dlr-url", ""))
            if dlr_url:
                self._kannel_receipts(dlr_url, delivered)
            return Answer(202, "0: Accepted for delivery")
        callback = fields.get("callback")
        if callback:
            status = "DELIVRD" if delivered else "UNDELIV"
            self.call_back(
                [
                    (
                        self.receipt_delay,
                        lambda client: client.post(
                            str(callback), json={"id": gateway_id, "status": status}
                        ),
                    )
                ]
            )
        return Answer(200, {"messages": [{"id": gateway_id, "status": "accepted"}]})

    def _kannel_receipts(self, dlr_url: str, delivered: bool) -> None:
        template = unquote(dlr_url) if "%25d" in dlr_url else dlr_url

        def step(code: int) -> Any:
            return lambda client: client.get(template.replace("%d", str(code)))

        self.call_back([(self.receipt_delay, step(8)), (0.01, step(1 if delivered else 2))])


def start_gateway(**options: Any) -> FakeGateway:
    return FakeGateway(**options).start()
