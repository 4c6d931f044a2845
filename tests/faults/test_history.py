"""The invariant checker on histories made by hand: a clean one passes, and each broken
invariant is named (a checker that cannot fail would prove nothing)."""

from __future__ import annotations

from typing import Any

from support.history import Delivery, History, Operation, check, longest_outage

PROBLEM = {"content-type": "application/problem+json", "retry-after": "1"}


def started(at: float, verification_id: str = "ver_1", *, sends: int = 1) -> Operation:
    status = 201 if sends == 1 else 200
    body = {"id": verification_id, "status": "pending", "sends": sends}
    return Operation("start", at, at + 0.01, status, body, {}, verification_id, "+447400000001")


def checked(at: float, *, valid: bool, status: str = "pending", right: bool = True) -> Operation:
    body = {"valid": valid, "status": status}
    return Operation("check", at, at + 0.01, 200, body, {}, "ver_1", right_code=right)


def no_answer(at: float, kind: str = "start") -> Operation:
    return Operation(kind, at, at + 0.01, None)


def history_of(*operations: Operation) -> History:
    history = History()
    for operation in operations:
        history.record(operation)
    return history


def verification(status: str = "approved", *, attempts: int = 1, sends: int = 1) -> Any:
    return {"ver_1": {"status": status, "attempts": attempts, "sends": sends}}


def messages(*statuses: str) -> dict[str, list[dict[str, str]]]:
    return {"ver_1": [{"id": f"msg_{n}", "status": s} for n, s in enumerate(statuses, 1)]}


def delivered(*message_ids: str, at: float = 0.5) -> list[Delivery]:
    return [Delivery(message_id, "+447400000001", at) for message_id in message_ids]


def test_a_clean_history_breaks_nothing_and_counts_duplicates() -> None:
    history = history_of(started(0), checked(1, valid=True, status="approved"))

    verdict = check(
        history, verification(), delivered("msg_1", "msg_1"), messages("sent"), max_attempts=5
    )

    assert verdict.violations == []
    assert verdict.duplicates == 1
    assert verdict.requests == 2


def test_a_500_and_a_503_without_retry_after_are_violations() -> None:
    history = history_of(
        Operation("start", 0, 0.1, 500, "Internal Server Error"),
        Operation("start", 1, 1.1, 503, {}, {"content-type": "application/problem+json"}),
        Operation("start", 2, 2.1, 503, {}, PROBLEM),
    )

    verdict = check(history, {}, [], {})

    assert len(verdict.violations) == 2
    assert verdict.refusals == 2


def test_an_acknowledged_start_that_is_gone_is_a_violation() -> None:
    verdict = check(history_of(started(0)), {}, delivered("msg_1"), {})

    assert any("is gone" in violation for violation in verdict.violations)


def test_an_approval_that_did_not_stay_or_came_twice_is_a_violation() -> None:
    history = history_of(
        started(0),
        checked(1, valid=True, status="approved"),
        checked(2, valid=True, status="approved"),
    )

    verdict = check(history, verification("pending"), delivered("msg_1"), messages("sent"))

    assert any("approved 2 times" in violation for violation in verdict.violations)
    assert any("is now pending" in violation for violation in verdict.violations)


def test_a_wrong_code_approved_or_forgotten_is_a_violation() -> None:
    history = history_of(
        started(0),
        checked(1, valid=False, right=False),
        checked(2, valid=False, right=False),
        checked(3, valid=True, status="approved", right=False),
    )

    verdict = check(history, verification(attempts=1), delivered("msg_1"), messages("sent"))

    assert any("approved a wrong code" in violation for violation in verdict.violations)
    assert any("forgot wrong codes" in violation for violation in verdict.violations)


def test_more_wrong_codes_than_allowed_is_a_violation() -> None:
    wrong = [checked(n, valid=False, right=False) for n in range(1, 4)]
    history = history_of(started(0), *wrong)

    verdict = check(
        history,
        verification("locked", attempts=3),
        delivered("msg_1"),
        messages("sent"),
        max_attempts=2,
    )

    assert any("accepted 3 wrong codes" in violation for violation in verdict.violations)
    assert any("counts 3 attempts" in violation for violation in verdict.violations)


def test_a_message_never_delivered_is_a_violation_unless_its_verification_ended_first() -> None:
    history = history_of(started(0), started(0.5, sends=2))

    pending = check(history, verification("pending", sends=2), [], messages("sent", "queued"))
    locked = check(
        history, verification("locked", sends=2), delivered("msg_1"), messages("sent", "failed")
    )

    assert len([v for v in pending.violations if "never delivered" in v]) == 2
    assert locked.violations == []


def test_a_lost_send_and_a_message_sent_after_the_end_are_violations() -> None:
    history = history_of(
        started(0), started(0.5, sends=2), checked(1, valid=True, status="approved")
    )

    verdict = check(
        history,
        verification(sends=1),
        [*delivered("msg_1"), Delivery("msg_2", "+447400000001", 9.0)],
        messages("sent", "sent"),
        grace=2.0,
    )

    assert any("lost a send" in violation for violation in verdict.violations)
    assert any("after ver_1 ended" in violation for violation in verdict.violations)


def test_the_longest_outage_runs_from_the_last_answer_to_the_next() -> None:
    operations = [
        started(0),
        no_answer(1),
        Operation("start", 2, 2.5, 503, {}, PROBLEM),
        started(4),  # answered at 4.01, 4.0 s after the last answer before
        no_answer(5),
        started(6),
    ]

    assert round(longest_outage(operations), 2) == 4.0
