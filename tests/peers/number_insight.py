"""Vonage Number Insight as Vonage documents it: `GET /ni/{basic,standard,advanced}/json` with
`number` (international digits), the API key and secret as HTTP Basic or as `api_key` and
`api_secret`; `200` with a `status` (0 success, 1 busy, 3 invalid, 4 bad credentials) and, at
standard, `current_carrier` {network_code, name, country, network_type}, `ported`; advanced
adds `valid_number`, `reachable` and `roaming`.

The last four digits steer it (NUMBERS); any other number is a reachable mobile. Ending 0500
gets HTTP 500, 0503 status 1 (busy), 0408 an answer after `slow_seconds`. A test holds every
answer by clearing `answering` (`asked` says a lookup arrived meanwhile)."""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from typing import Any

from peers.httpfake import Answer, FakeHttpPeer, Seen

API_KEY = "vonagekey"
API_SECRET = "vonage-secret-0123"

# last four digits -> (network_type, reachable)
NUMBERS = {
    "0123": ("mobile", "reachable"),
    "0124": ("virtual", "unknown"),
    "0125": ("landline", "unknown"),
    "0126": ("mobile", "absent"),
    "0127": ("mobile", "blacklisted"),
}


class FakeNumberInsight(FakeHttpPeer):
    def __init__(self, *, slow_seconds: float = 6.0, delay_seconds: float = 0.0) -> None:
        super().__init__()
        self.slow_seconds = slow_seconds
        self.delay_seconds = delay_seconds  # before every answer: concurrent asks overlap
        self.asked = threading.Event()
        self.answering = threading.Event()
        self.answering.set()

    def lookups(self, number: str | None = None) -> list[Seen]:
        """The lookups asked, of one number (international digits) or all."""
        return [
            seen
            for seen in self.seen
            if seen.path.startswith("/ni/") and number in (None, seen.query.get("number"))
        ]

    def handle(self, request: Seen) -> Answer:
        found = re.fullmatch(r"/ni/(basic|standard|advanced)/json", request.path)
        if request.method not in ("GET", "POST") or not found:
            return Answer(404, {"error": "not found"})
        level = found.group(1)
        expected = "Basic " + base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
        query = request.query
        keyed = (query.get("api_key"), query.get("api_secret")) == (API_KEY, API_SECRET)
        if request.headers.get("authorization") != expected and not keyed:
            return _status(4, "Invalid credentials")
        number = query.get("number", "")
        if not re.fullmatch(r"[0-9]{6,15}", number):
            return _status(3, "Invalid number")
        self.asked.set()
        self.answering.wait()
        time.sleep(self.delay_seconds)
        if number.endswith("0500"):
            return Answer(500, "Internal Server Error")
        if number.endswith("0503"):
            return _status(1, "Busy")
        if number.endswith("0408"):
            time.sleep(self.slow_seconds)
        return Answer(200, _insight(level, number))


def _status(status: int, message: str) -> Answer:
    return Answer(200, {"status": status, "status_message": message})


def _insight(level: str, number: str) -> dict[str, Any]:
    network_type, reachable = NUMBERS.get(number[-4:], ("mobile", "reachable"))
    us = number.startswith("1")
    answer: dict[str, Any] = {
        "status": 0,
        "status_message": "Success",
        "request_id": secrets.token_hex(16),
        "international_format_number": number,
        "national_format_number": number,
        "country_code": "US" if us else "GB",
        "country_code_iso3": "USA" if us else "GBR",
        "country_name": "United States of America" if us else "United Kingdom",
        "country_prefix": "1" if us else "44",
    }
    if level == "basic":
        return answer
    carrier = {
        "network_code": "310090" if us else "23410",
        "name": "AT&T Mobility" if network_type == "mobile" else "Bandwidth.com",
        "country": answer["country_code"],
        "network_type": network_type,
    }
    answer.update(
        request_price="0.00500000",
        remaining_balance="10.00000000",
        current_carrier=carrier,
        original_carrier=carrier,
        ported="not_ported",
    )
    if level == "advanced":
        answer.update(
            valid_number="valid",
            reachable=reachable,
            roaming={"status": "not_roaming"},
            lookup_outcome=0,
            lookup_outcome_message="Success",
        )
    return answer
