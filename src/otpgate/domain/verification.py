"""Verifications and their messages: states, and how time changes them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


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
