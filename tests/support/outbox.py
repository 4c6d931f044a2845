"""Reading a code back from the developer outbox, as a person reads it on the phone."""

from __future__ import annotations

import re
import time
from typing import Any, Protocol

# the code is the last word of the text: every template in these tests ends with it
_LAST_WORD = re.compile(r"\b([0-9a-z]{4,10})\b[^0-9a-z]*$")


class HttpGetter(Protocol):
    """`TestClient` and `httpx.Client` alike."""

    def get(self, url: str, **kwargs: Any) -> Any: ...


def code_in(body: str) -> str:
    found = _LAST_WORD.search(body)
    assert found, f"no code at the end of {body!r}"
    return found.group(1)


def outbox_messages(
    http: HttpGetter, headers: dict[str, str], to: str, *, limit: int = 20
) -> list[dict[str, Any]]:
    answer = http.get("/v1/dev/outbox", params={"to": to, "limit": limit}, headers=headers)
    assert answer.status_code == 200, answer.text
    messages: list[dict[str, Any]] = answer.json()["messages"]
    return messages


def wait_for_messages(
    http: HttpGetter,
    headers: dict[str, str],
    to: str,
    count: int = 1,
    *,
    verification_id: str | None = None,
    timeout: float = 2.0,
) -> list[dict[str, Any]]:
    """At least `count` outbox messages to `to` (of one verification, when given), newest
    first, polling until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        messages = [
            message
            for message in outbox_messages(http, headers, to)
            if verification_id in (None, message["verification_id"])
        ]
        if len(messages) >= count:
            return messages
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(messages)} of {count} messages to {to} in {timeout}s")
        time.sleep(0.005)


def read_code(
    http: HttpGetter,
    headers: dict[str, str],
    to: str,
    *,
    verification_id: str | None = None,
    timeout: float = 2.0,
) -> str:
    """The code in the newest outbox message to `to` (of one verification, when given: with a
    fake clock two messages can share a send time, and then "newest" is a coin toss)."""
    messages = wait_for_messages(
        http, headers, to, verification_id=verification_id, timeout=timeout
    )
    return code_in(messages[0]["body"])


def wrong_code(right: str) -> str:
    """A code of the same shape that is certainly not `right`."""
    return "".join("1" if c == "0" else "0" for c in right)
