"""A Jepsen-style history of requests and answers, and the invariants a fault must not break.

Load generators record every request they make (`History.record`), whatever came back: an
answer, or no answer at all (the connection refused or cut by the fault). After the fault, the
test reads the final state (every verification, every message the SMS gateway took) and
`check` says which invariants of docs/reliability.md were broken, how many duplicates were
delivered, and the longest time clients saw no successful answer.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

# an answer that tells a client nothing yet: no answer, or a 503 that asks it to come back
OUTAGE = "outage"
ENDED_BY_CLIENT_OR_CLOCK = {"approved", "locked", "canceled", "expired"}
STATES_AFTER_PENDING = {"pending", "approved", "expired", "locked", "canceled", "undeliverable"}


@dataclass(frozen=True)
class Operation:
    """One request: what was asked, when, and what (if anything) came back."""

    kind: str  # "start", "check" or "read"
    started: float  # time.monotonic() before sending
    ended: float  # and after the answer (or the failure)
    status: int | None  # None: no answer (refused, reset, timed out)
    body: Any = None  # the parsed JSON answer, if any
    headers: Mapping[str, str] = field(default_factory=dict)
    verification_id: str | None = None  # the one it was about (a start's: from the answer)
    to: str | None = None
    right_code: bool | None = None  # a check: whether it sent the code the phone received
    vendor: bool = False  # on a compatibility route (its own error shapes)

    @property
    def answered(self) -> bool:
        """A definite answer: neither missing nor a 503 that asks to retry."""
        return self.status is not None and self.status != 503


@dataclass
class Delivery:
    """One message the SMS gateway accepted (and so, as far as a phone knows, delivered)."""

    message_id: str
    to: str
    accepted_at: float


@dataclass
class Verdict:
    requests: int
    violations: list[str]
    duplicates: int  # messages the gateway took more than once
    longest_outage: float  # seconds without a definite answer, as clients saw it
    refusals: int  # 503 answers (the fault, said loudly)

    def row(self, fault: str, rounds: int) -> str:
        """The fault's line in docs/reliability.md's table."""
        return (
            f"| {fault} | {rounds} | {self.requests} | {len(self.violations)} | "
            f"{self.duplicates} | {self.longest_outage:.1f} s |"
        )


class History:
    """Every operation of a test, appended from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.operations: list[Operation] = []

    def record(self, operation: Operation) -> None:
        with self._lock:
            self.operations.append(operation)

    def __len__(self) -> int:
        return len(self.operations)

    def call(self, kind: str, send: Any, **about: Any) -> Operation:
        """Make the request `send()` (an httpx call) and record it, answered or not."""
        started = time.monotonic()
        try:
            answer = send()
        except httpx.TransportError:  # refused, reset, timed out: no answer
            operation = Operation(kind, started, time.monotonic(), None, **about)
        else:
            try:
                body = answer.json()
            except ValueError:
                body = answer.text
            if kind == "start" and isinstance(body, dict) and answer.status_code in (200, 201):
                about = {**about, "verification_id": body.get("id")}
            operation = Operation(
                kind,
                started,
                time.monotonic(),
                answer.status_code,
                body,
                dict(answer.headers),
                **about,
            )
        self.record(operation)
        return operation


def check(
    history: History,
    final: Mapping[str, Mapping[str, Any]],
    deliveries: Iterable[Delivery],
    messages: Mapping[str, list[Mapping[str, Any]]],
    *,
    max_attempts: int = 5,
    grace: float = 2.0,
) -> Verdict:
    """The invariants over `history`, given every verification and its messages as read after
    the fault (`final` and `messages`, by verification id) and what the SMS gateway accepted.
    A message claimed just before its verification ended may still go out: within `grace`
    seconds (the provider's timeout and a margin), it does not count as sent after the end."""
    operations = sorted(history.operations, key=lambda operation: operation.ended)
    violations: list[str] = []
    violations += _server_errors(operations)
    violations += _acknowledged_starts(operations, final)
    violations += _approvals(operations, final)
    violations += _wrong_codes(operations, final, max_attempts)
    taken = list(deliveries)
    violations += _deliveries(operations, final, taken, messages, grace)
    per_message = Counter(delivery.message_id for delivery in taken)
    return Verdict(
        requests=len(operations),
        violations=violations,
        duplicates=sum(count - 1 for count in per_message.values()),
        longest_outage=longest_outage(operations),
        refusals=sum(1 for operation in operations if operation.status == 503),
    )


def _server_errors(operations: list[Operation]) -> list[str]:
    found = []
    for operation in operations:
        if operation.status is None or operation.status < 500:
            continue
        if operation.status != 503:
            found.append(f"{operation.kind} answered {operation.status}: {operation.body!r}")
            continue
        headers = {name.lower(): value for name, value in operation.headers.items()}
        if not headers.get("retry-after", "").isdigit():
            found.append(f"{operation.kind} answered 503 without Retry-After")
        problem_json = headers.get("content-type", "").startswith("application/problem+json")
        if not operation.vendor and not problem_json:
            found.append(f"{operation.kind} answered 503 that is not problem JSON")
    return found


def _acknowledged_starts(
    operations: list[Operation], final: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    found = []
    sends: dict[str, int] = {}
    for operation in operations:
        if operation.kind != "start" or operation.status not in (200, 201):
            continue
        verification_id = operation.verification_id
        assert verification_id is not None
        sends[verification_id] = max(sends.get(verification_id, 0), operation.body["sends"])
    for verification_id, acknowledged in sends.items():
        after = final.get(verification_id)
        if after is None:
            found.append(f"{verification_id} was answered 201 and is gone")
        elif after["status"] not in STATES_AFTER_PENDING:
            found.append(f"{verification_id} is in no state a start leads to: {after['status']}")
        elif after["sends"] < acknowledged:
            found.append(f"{verification_id} lost a send: {after['sends']} < {acknowledged}")
    return found


def _approvals(operations: list[Operation], final: Mapping[str, Mapping[str, Any]]) -> list[str]:
    found = []
    approvals: Counter[str] = Counter()
    for operation in operations:
        if operation.kind != "check" or operation.status != 200:
            continue
        assert operation.verification_id is not None
        if operation.body["valid"]:
            approvals[operation.verification_id] += 1
            if not operation.right_code:
                found.append(f"{operation.verification_id} approved a wrong code")
        elif operation.right_code:
            found.append(f"{operation.verification_id} refused the code it sent")
    for verification_id, count in approvals.items():
        if count > 1:
            found.append(f"{verification_id} approved {count} times")
        after = final.get(verification_id)
        if after is None or after["status"] != "approved":
            status = None if after is None else after["status"]
            found.append(f"{verification_id} was approved and is now {status}")
    return found


def _wrong_codes(
    operations: list[Operation], final: Mapping[str, Mapping[str, Any]], max_attempts: int
) -> list[str]:
    found = []
    wrong: Counter[str] = Counter()
    for operation in operations:
        if operation.kind == "check" and operation.status == 200 and not operation.body["valid"]:
            assert operation.verification_id is not None
            wrong[operation.verification_id] += 1
    for verification_id, count in wrong.items():
        if count > max_attempts:
            found.append(f"{verification_id} accepted {count} wrong codes (max {max_attempts})")
        after = final.get(verification_id)
        if after is not None and after["attempts"] < count:
            found.append(
                f"{verification_id} forgot wrong codes: {after['attempts']} attempts after "
                f"{count} were answered"
            )
    for verification_id, after in final.items():
        if after["attempts"] > max_attempts:
            found.append(f"{verification_id} counts {after['attempts']} attempts")
    return found


def _deliveries(
    operations: list[Operation],
    final: Mapping[str, Mapping[str, Any]],
    deliveries: list[Delivery],
    messages: Mapping[str, list[Mapping[str, Any]]],
    grace: float,
) -> list[str]:
    found = []
    taken: defaultdict[str, list[float]] = defaultdict(list)
    for delivery in deliveries:
        taken[delivery.message_id].append(delivery.accepted_at)
    sends: dict[str, int] = {}
    for operation in operations:
        if operation.kind == "start" and operation.status in (200, 201):
            assert operation.verification_id is not None
            before = sends.get(operation.verification_id, 0)
            sends[operation.verification_id] = max(before, operation.body["sends"])
    ended = _ends(operations)
    for verification_id, acknowledged in sends.items():
        listed = messages.get(verification_id, [])
        if len(listed) < acknowledged:
            found.append(f"{verification_id}: {acknowledged} sends answered, {len(listed)} kept")
        status = final.get(verification_id, {}).get("status")
        for message in listed:
            times = taken.get(message["id"], [])
            # a message may go unsent only because its verification ended first
            excused = message["status"] == "failed" and status in ENDED_BY_CLIENT_OR_CLOCK
            if not times and not excused:
                found.append(
                    f"message {message['id']} of {verification_id} ({message['status']}, "
                    f"{message.get('attempts')} tries, {message.get('last_error')}) was never "
                    "delivered"
                )
            end = ended.get(verification_id)
            late = [moment for moment in times if end is not None and moment > end + grace]
            if late:
                found.append(
                    f"message {message['id']} was sent {late[0] - end:.1f} s after "
                    f"{verification_id} ended"
                )
    return found


def _ends(operations: list[Operation]) -> dict[str, float]:
    """When each verification was seen to end: a check answered approved or locked, or 409."""
    ends: dict[str, float] = {}
    for operation in operations:
        if operation.kind != "check" or operation.verification_id is None:
            continue
        ending = operation.status == 409 or (
            operation.status == 200 and operation.body["status"] in ("approved", "locked")
        )
        if ending:
            ends[operation.verification_id] = min(
                ends.get(operation.verification_id, operation.ended), operation.ended
            )
    return ends


def longest_outage(operations: Iterable[Operation]) -> float:
    """The longest stretch, in seconds, from the end of one definite answer to the end of the
    next, during which at least one request got none (a fault, as clients saw it)."""
    ordered = sorted(operations, key=lambda operation: operation.ended)
    longest = 0.0
    last_answer: float | None = None
    failed_since: float | None = None
    for operation in ordered:
        if not operation.answered:
            if failed_since is None:
                failed_since = operation.started if last_answer is None else last_answer
            continue
        if failed_since is not None:
            longest = max(longest, operation.ended - failed_since)
            failed_since = None
        last_answer = operation.ended
    if failed_since is not None and ordered:
        longest = max(longest, ordered[-1].ended - failed_since)
    return longest
