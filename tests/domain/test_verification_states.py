"""Verification states: how time reads a pending verification, and what a check outcome is."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from otpgate.domain.verification import (
    CheckOutcome,
    CheckResult,
    DeliveryStatus,
    Status,
    Verification,
)

CREATED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PENDING = Verification(
    id="ver_1",
    app_id="app_1",
    to="+447123123456",
    channel="sms",
    status=Status.PENDING,
    country="GB",
    line_type="mobile",
    attempts=0,
    max_attempts=5,
    sends=1,
    delivery_status=DeliveryStatus.QUEUED,
    external_id=None,
    reference=None,
    created_at=CREATED,
    expires_at=CREATED + timedelta(seconds=600),
    approved_at=None,
    last_sent_at=CREATED,
)
FINAL = [Status.APPROVED, Status.EXPIRED, Status.LOCKED, Status.CANCELED, Status.UNDELIVERABLE]


def test_the_states_are_the_contracts() -> None:
    assert [s.value for s in Status] == [
        "pending",
        "approved",
        "expired",
        "locked",
        "canceled",
        "undeliverable",
    ]


def test_a_pending_verification_reads_pending_until_its_last_microsecond() -> None:
    assert PENDING.status_at(PENDING.expires_at - timedelta(microseconds=1)) is Status.PENDING


def test_a_pending_verification_reads_expired_from_its_expiry_on() -> None:
    assert PENDING.status_at(PENDING.expires_at) is Status.EXPIRED
    assert PENDING.seen_at(PENDING.expires_at + timedelta(days=1)).status is Status.EXPIRED


@pytest.mark.parametrize("status", FINAL)
def test_a_final_state_never_changes_with_time(status: Status) -> None:
    final = replace(PENDING, status=status)
    for later in (CREATED, PENDING.expires_at, PENDING.expires_at + timedelta(days=365)):
        assert final.status_at(later) is status
        assert final.seen_at(later) is final


def test_reading_a_verification_before_its_expiry_changes_nothing() -> None:
    assert PENDING.seen_at(CREATED) is PENDING


@pytest.mark.parametrize(("attempts", "left"), [(0, 5), (4, 1), (5, 0), (7, 0)])
def test_attempts_left_never_goes_below_zero(attempts: int, left: int) -> None:
    assert replace(PENDING, attempts=attempts).attempts_left == left


@pytest.mark.parametrize("outcome", list(CheckOutcome))
def test_only_an_approving_check_is_valid(outcome: CheckOutcome) -> None:
    assert CheckResult(PENDING, outcome).valid is (outcome is CheckOutcome.APPROVED)
