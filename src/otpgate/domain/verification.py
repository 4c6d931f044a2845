"""Verifications and their messages: states, and how time changes them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otpgate.domain.channels import StepState


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EXPIRED = "expired"
    LOCKED = "locked"
    CANCELED = "canceled"
    UNDELIVERABLE = "undeliverable"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


class CheckOutcome(StrEnum):
    """What one check did to a pending verification."""

    APPROVED = "approved"
    WRONG_CODE = "wrong_code"
    LOCKED = "locked"  # this check was the last wrong code allowed
    EXPIRED = "expired"  # this check found the code past its expiry; nothing was counted


@dataclass(frozen=True)
class Verification:
    id: str
    app_id: str
    to: str
    channel: str
    status: Status
    country: str | None
    line_type: str
    attempts: int
    max_attempts: int
    sends: int
    delivery_status: DeliveryStatus
    external_id: str | None
    reference: str | None
    created_at: datetime
    expires_at: datetime
    approved_at: datetime | None
    last_sent_at: datetime
    locale: str | None = None  # of its messages' text; None for one made before locales
    workflow_steps: int = 1  # more than one: its steps are stored beside it
    # its steps as shown, when read with them (a verification of one step is its channel)
    workflow: tuple[StepState, ...] = ()

    def status_at(self, now: datetime) -> Status:
        """A pending verification past its expiry reads as expired before anything stores it."""
        if self.status is Status.PENDING and now >= self.expires_at:
            return Status.EXPIRED
        return self.status

    def seen_at(self, now: datetime) -> Verification:
        status = self.status_at(now)
        if status is self.status:
            return self
        return replace(self, status=status)

    @property
    def attempts_left(self) -> int:
        return max(0, self.max_attempts - self.attempts)


@dataclass(frozen=True)
class CheckResult:
    verification: Verification
    outcome: CheckOutcome

    @property
    def valid(self) -> bool:
        return self.outcome is CheckOutcome.APPROVED


# what a check that left the verification in this status did
CHECK_OUTCOMES = {
    Status.APPROVED: CheckOutcome.APPROVED,
    Status.PENDING: CheckOutcome.WRONG_CODE,
    Status.LOCKED: CheckOutcome.LOCKED,
    Status.EXPIRED: CheckOutcome.EXPIRED,
}


def check_transition(
    verification: Verification, code_matches: bool, now: datetime
) -> Verification | None:
    """What one check does to a verification, or None when it is not pending (nothing is
    counted). Past its expiry it becomes expired and the attempt is not counted; otherwise
    the attempt is counted, and a right code approves it, the last wrong one allowed locks
    it. The store runs the same rule as one conditional UPDATE (store/verifications.py); a
    property test holds the two together. A verification that is no longer pending keeps no
    code."""
    if verification.status is not Status.PENDING:
        return None
    if now >= verification.expires_at:
        return replace(verification, status=Status.EXPIRED)
    attempts = verification.attempts + 1
    if code_matches:
        return replace(verification, status=Status.APPROVED, attempts=attempts, approved_at=now)
    status = Status.LOCKED if attempts >= verification.max_attempts else Status.PENDING
    return replace(verification, status=status, attempts=attempts)
