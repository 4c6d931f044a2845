"""A hypothesis state machine drives the real VerificationService over the real SQLite store
with a fake clock, and holds it to a model of the contract after every step."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from support.numbers import new_mobile
from support.outbox import code_in, wrong_code

from otpgate.domain.errors import NotPending, RateLimited, ValidationFailed
from otpgate.domain.verification import CheckOutcome, Status
from otpgate.runtime import Runtime
from otpgate.service.ports import App, ListQuery
from otpgate.service.verifications import StartRequest
from otpgate.store.tables import verifications

_apps = itertools.count()
FINAL_STORED = {"approved", "locked", "canceled", "expired", "undeliverable"}


@dataclass
class Expected:
    """What the contract says one verification is."""

    id: str
    code: str
    expires_at: datetime
    status: Status = Status.PENDING
    attempts: int = 0
    sends: int = 1
    last_sent_at: datetime | None = None
    approvals: int = 0

    def status_at(self, now: datetime) -> Status:
        if self.status is Status.PENDING and now >= self.expires_at:
            return Status.EXPIRED
        return self.status


class VerificationLifecycle(RuleBasedStateMachine):
    def __init__(self, runtime: Runtime, clock: Any) -> None:
        super().__init__()
        self.runtime = runtime
        self.clock = clock
        self.service = runtime.verifications
        self.app: App
        self.to = new_mobile()
        self.all: dict[str, Expected] = {}
        self.current: Expected | None = None

    @initialize(
        max_attempts=st.integers(1, 6),
        max_sends=st.integers(1, 4),
        cooldown=st.sampled_from([0, 30]),
        ttl=st.sampled_from([60, 600]),
    )
    def create_app(self, max_attempts: int, max_sends: int, cooldown: int, ttl: int) -> None:
        self.app = self.runtime.apps.create_app(
            f"machine-{next(_apps)}",
            {
                "max_attempts": max_attempts,
                "max_sends": max_sends,
                "resend_cooldown_seconds": cooldown,
                "ttl_seconds": ttl,
                # the model is of one verification's rules; tests/abuse covers the limits
                "sends_per_number_10min": 1000,
                "sends_per_number_day": 10_000,
                "failures_per_number_day": 1000,
            },
        )

    @property
    def now(self) -> datetime:
        now: datetime = self.clock.now()
        return now

    def delivered_code(self, verification_id: str) -> str:
        """Deliver what is queued and read the code as the phone shows it."""
        asyncio.run(self.runtime.worker.deliver_due())
        assert self.runtime.outbox is not None
        for message in self.runtime.outbox.read(self.app.id, self.to, 100):
            if message.verification_id == verification_id:
                return code_in(message.body)
        raise AssertionError(f"no message for {verification_id}")

    # -- rules ------------------------------------------------------------------------------

    @rule()
    def start(self) -> None:
        expected = self.current
        if expected is not None and expected.status_at(self.now) is Status.PENDING:
            self._resend(expected)
            return
        if expected is not None and expected.status is Status.PENDING:
            expected.status = Status.EXPIRED  # a new start stores the old one's expiry
        result = self.service.start(self.app, StartRequest(to=self.to))
        assert result.created
        verification = result.verification
        assert verification.id not in self.all
        assert (verification.status, verification.attempts, verification.sends) == (
            Status.PENDING,
            0,
            1,
        )
        self.current = Expected(
            id=verification.id,
            code=self.delivered_code(verification.id),
            expires_at=self.now + timedelta(seconds=self.app.settings.ttl_seconds),
            last_sent_at=self.now,
        )
        self.all[verification.id] = self.current

    def _resend(self, expected: Expected) -> None:
        settings = self.app.settings
        assert expected.last_sent_at is not None
        cooling = self.now < expected.last_sent_at + timedelta(
            seconds=settings.resend_cooldown_seconds
        )
        try:
            result = self.service.start(self.app, StartRequest(to=self.to))
        except RateLimited as refused:
            assert expected.sends >= settings.max_sends or cooling
            assert refused.retry_after >= 1
            return
        assert expected.sends < settings.max_sends and not cooling
        assert not result.created
        assert result.verification.id == expected.id
        expected.sends += 1
        expected.last_sent_at = self.now
        assert result.verification.sends == expected.sends
        assert result.verification.attempts == expected.attempts  # attempts carry over
        assert self.delivered_code(expected.id) == expected.code  # the same code again

    @precondition(lambda self: self.current is not None)
    @rule()
    def check_right_code(self) -> None:
        assert self.current is not None
        self._check(self.current, self.current.code, right=True)

    @precondition(lambda self: self.current is not None)
    @rule()
    def check_wrong_code(self) -> None:
        assert self.current is not None
        self._check(self.current, wrong_code(self.current.code), right=False)

    @precondition(lambda self: bool(self.all))
    @rule(data=st.data())
    def check_an_older_verification(self, data: st.DataObject) -> None:
        # by creation order: ids are random, so their sorted order differs between runs
        expected = data.draw(st.sampled_from(list(self.all.values())))
        right = data.draw(st.booleans())
        self._check(expected, expected.code if right else wrong_code(expected.code), right=right)

    def _check(self, expected: Expected, code: str, *, right: bool) -> None:
        status = expected.status_at(self.now)
        if status is Status.EXPIRED and expected.status is Status.PENDING:
            # the first check past the expiry stores it, counts nothing and approves nothing
            result = self.service.check(self.app, expected.id, code)
            assert result.outcome is CheckOutcome.EXPIRED and not result.valid
            assert result.verification.attempts == expected.attempts
            expected.status = Status.EXPIRED
            return
        if status is not Status.PENDING:
            with pytest.raises(NotPending) as refused:
                self.service.check(self.app, expected.id, code)
            assert refused.value.status == status
            expected.status = status
            return
        result = self.service.check(self.app, expected.id, code)
        expected.attempts += 1
        if right:
            expected.status, expected.approvals = Status.APPROVED, expected.approvals + 1
            assert result.outcome is CheckOutcome.APPROVED and result.valid
        elif expected.attempts >= self.app.settings.max_attempts:
            expected.status = Status.LOCKED
            assert result.outcome is CheckOutcome.LOCKED and not result.valid
        else:
            assert result.outcome is CheckOutcome.WRONG_CODE and not result.valid
        assert result.verification.status is expected.status
        assert result.verification.attempts == expected.attempts

    @precondition(lambda self: self.current is not None)
    @rule(code=st.sampled_from(["", " ", "\t\n"]))
    def check_an_empty_code(self, code: str) -> None:
        assert self.current is not None
        with pytest.raises(ValidationFailed) as refused:
            self.service.check(self.app, self.current.id, code)
        assert refused.value.field == "code"

    @precondition(lambda self: self.current is not None)
    @rule()
    def cancel(self) -> None:
        assert self.current is not None
        status = self.current.status_at(self.now)
        if status is not Status.PENDING:
            with pytest.raises(NotPending) as refused:
                self.service.cancel(self.app, self.current.id)
            assert refused.value.status == status
            return
        assert self.service.cancel(self.app, self.current.id).status is Status.CANCELED
        self.current.status = Status.CANCELED

    @rule(seconds=st.sampled_from([1, 10, 29, 30, 31, 59, 60, 300, 601]))
    def advance_the_clock(self, seconds: int) -> None:
        self.clock.advance(seconds)

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def each_verification_reads_as_the_contract_says(self) -> None:
        for expected in self.all.values():
            found = self.service.get(self.app, expected.id)
            assert found.status is expected.status_at(self.now), expected
            assert found.attempts == expected.attempts
            assert found.sends == expected.sends

    @invariant()
    def nothing_approves_twice_or_counts_past_the_cap(self) -> None:
        for expected in self.all.values():
            assert expected.approvals <= 1
        listed = self.service.list(self.app, ListQuery(None, None, 100, None))
        assert sum(v.status is Status.APPROVED for v in listed) <= len(self.all)
        for verification in listed:
            assert verification.attempts <= verification.max_attempts
            assert (verification.approved_at is not None) is (
                verification.status is Status.APPROVED
            )

    @invariant()
    def a_final_verification_keeps_no_code_to_resend(self) -> None:
        v = verifications.c
        with self.runtime.database.read() as connection:
            rows = connection.execute(
                select(v.id, v.status, v.code_sealed).where(v.app_id == self.app.id)
            ).all()
        for row in rows:
            if row.status in FINAL_STORED:
                assert row.code_sealed is None, row.status


def test_no_sequence_of_operations_breaks_the_verification_rules(
    runtime: Runtime, clock: Any
) -> None:
    run_state_machine_as_test(
        lambda: VerificationLifecycle(runtime, clock),
        settings=settings(max_examples=60, stateful_step_count=30, deadline=None),
    )
