"""An HLR lookup gateway of the common shape: `GET /hlr/<number>` with an API key header,
`200` with `{"result": {"type", "status", "network": {"name", "mcc", "mnc"}}}` in its own
words (`MOBILE`, `FIXED`, `VIRTUAL`; `DELIVERED`, `ABSENT`, `UNKNOWN`). A number ending 0500
gets HTTP 502."""

from __future__ import annotations

from urllib.parse import unquote

from peers.httpfake import Answer, FakeHttpPeer, Seen

API_KEY = "hlr-key-0123"
# last four digits -> (type, status)
NUMBERS = {
    "0123": ("MOBILE", "DELIVERED"),
    "0124": ("VIRTUAL", "UNKNOWN"),
    "0126": ("MOBILE", "ABSENT"),
}


class FakeHlr(FakeHttpPeer):
    def handle(self, request: Seen) -> Answer:
        if request.headers.get("x-api-key") != API_KEY:
            return Answer(401, {"error": "unauthorized"})
        if not request.path.startswith("/hlr/"):
            return Answer(404, {"error": "not found"})
        number = unquote(request.path.removeprefix("/hlr/"))
        if number.endswith("0500"):
            return Answer(502, "Bad Gateway")
        kind, status = NUMBERS.get(number[-4:], ("FIXED", "UNKNOWN"))
        network = {"name": "Vodafone", "mcc": "234", "mnc": "15"} if kind == "MOBILE" else None
        return Answer(
            200, {"number": number, "result": {"type": kind, "status": status, "network": network}}
        )
