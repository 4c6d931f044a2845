"""Reading the analytics API in tests, and waiting for a message to reach the outbox."""

from __future__ import annotations

import time
from typing import Any

from support.native import NativeApi


def summary(api: NativeApi, **params: Any) -> dict[str, Any]:
    answer = api.http.get("/v1/analytics/summary", params=params, headers=api.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def delivered(api: NativeApi, verification: dict[str, Any], timeout: float = 5.0) -> None:
    """Wait until the delivery loop has handed the verification's message to the outbox."""
    deadline = time.monotonic() + timeout
    while api.get(verification["id"]).json()["delivery_status"] != "delivered":
        assert time.monotonic() < deadline, f"{verification['id']} not delivered in {timeout}s"
        time.sleep(0.01)
